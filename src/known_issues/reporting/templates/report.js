(function(){
  var q=function(s){return Array.prototype.slice.call(document.querySelectorAll(s));};
  function apply(){
    var kinds=q('.f-kind').filter(function(c){return c.checked;}).map(function(c){return c.value;});
    var verdict=document.getElementById('f-verdict').value;
    var changing=document.getElementById('f-changing').checked;
    var contra=document.getElementById('f-contradicted').checked;
    var shown=0, visibleCases={};
    q('tr.test').forEach(function(tr){
      var ok=kinds.indexOf(tr.dataset.kind)>=0;
      if(ok&&verdict){ok=tr.dataset.verdicts.split('|').indexOf(verdict)>=0;}
      if(ok&&changing){ok=tr.dataset.changing==='1';}
      if(ok&&contra){ok=tr.dataset.claim==='contradicted';}
      tr.classList.toggle('hidden',!ok);
      if(ok){shown++;visibleCases[tr.dataset.case]=1;}
    });
    q('tr.case').forEach(function(tr){tr.classList.toggle('hidden',!visibleCases[tr.dataset.case]);});
    document.getElementById('f-count').textContent=shown+' test row(s) shown';
  }
  q('#filters input, #filters select').forEach(function(el){el.addEventListener('change',apply);});
  document.getElementById('filters').addEventListener('submit',function(e){e.preventDefault();});
  apply();
  // A link from the findings list to a case opens its detail (a closed <details> hides its content).
  function openTarget(){
    var id=decodeURIComponent(location.hash.slice(1));
    var el=id&&document.getElementById(id);
    if(el&&el.tagName==='DETAILS'){el.open=true;}
  }
  window.addEventListener('hashchange',openTarget);
  openTarget();
})();
