(function(){
  'use strict';
  // Everything shown from the page's data is set as text (textContent), never parsed as markup.
  var q=function(s,root){return Array.prototype.slice.call((root||document).querySelectorAll(s));};
  var byId=function(id){return document.getElementById(id);};
  var D=JSON.parse(byId('data').textContent);
  var scroller=document.querySelector('#matrix .scroll');
  var grid=scroller.querySelector('table.grid');
  var headRow=grid.querySelector('tr.cols');
  var rowOf={}, colOf={}, classOf={};
  D.rows.forEach(function(r,i){rowOf[r.a]=i;});
  D.cells.forEach(function(c,i){colOf[c.a]=i;});
  Object.keys(D.verdicts).forEach(function(k){classOf[D.verdicts[k][0]]=k;});

  function el(tag,text,cls){
    var e=document.createElement(tag);
    if(text!==undefined&&text!==null){e.textContent=text;}
    if(cls){e.className=cls;}
    return e;
  }
  // Links go to this page, or to a cell's files beside it (names made of safe characters only).
  function link(text,href){
    if(!/^(#|logs\/|junit\/)[A-Za-z0-9._&\/-]*$/.test(href)){return el('span',text);}
    var a=el('a',text);a.setAttribute('href',href);return a;
  }
  function add(parent){for(var i=1;i<arguments.length;i++){if(arguments[i]){parent.appendChild(arguments[i]);}}return parent;}
  function mark(verdict){
    var cls=classOf[verdict];
    if(verdict===null||verdict===undefined){return el('span','unknown','unknown');}
    return add(el('span'),el('span',D.verdicts[cls||'-'][2]||'·','v '+(cls||'')),document.createTextNode(' '+verdict));
  }

  // ---- filters
  function apply(){
    var kinds=q('.f-kind').filter(function(c){return c.checked;}).map(function(c){return c.value;});
    var verdict=byId('f-verdict').value;
    var changing=byId('f-changing').checked;
    var contra=byId('f-contradicted').checked;
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
    byId('f-count').textContent=shown+' test row(s) shown';
  }
  function showAll(){
    q('.f-kind').forEach(function(c){c.checked=true;});
    byId('f-verdict').value='';byId('f-changing').checked=false;byId('f-contradicted').checked=false;
    apply();
  }
  q('#filters input, #filters select').forEach(function(e){e.addEventListener('change',apply);});
  byId('filters').addEventListener('submit',function(e){e.preventDefault();});
  apply();

  // ---- the details panel
  var panel=byId('panel'), panelBody=byId('panel-body'), panelTitle=byId('panel-title'), selected=null;
  function openPanel(title,nodes,source){
    panelTitle.textContent=title;
    panelBody.textContent='';
    nodes.forEach(function(n){if(n){panelBody.appendChild(n);}});
    panel.hidden=false;panel.scrollTop=0;
    if(selected){selected.classList.remove('sel');}
    selected=source;if(source){source.classList.add('sel');}
  }
  function closePanel(){
    panel.hidden=true;
    if(selected){selected.classList.remove('sel');selected=null;}
  }
  byId('panel-close').addEventListener('click',function(){var back=selected;closePanel();if(back){back.focus();}});
  document.addEventListener('keydown',function(e){if(e.key==='Escape'&&!panel.hidden){var back=selected;closePanel();if(back){back.focus();}}});
  function pairs(list){
    var dl=el('dl');
    list.forEach(function(p){if(p&&p[1]!==''&&p[1]!==undefined){add(dl,el('dt',p[0]),typeof p[1]==='string'?el('dd',p[1]):add(el('dd'),p[1]));}});
    return dl;
  }
  function message(index){return index===undefined?null:el('pre',D.messages[index]);}
  function cellFiles(c){
    var p=el('p',null,'links');
    c.logs.forEach(function(path){
      var n=/\.confirm(\d+)\.log$/.exec(path);
      add(p,link(n?'log of re-run '+n[1]:'pytest log',path));
    });
    if(!c.logs.length){add(p,el('span','no log in logs/ (nothing ran in this cell in the runs kept) · '));}
    return add(p,link('JUnit XML',c.junit));
  }
  function verdictOf(td){
    for(var i=0;i<td.classList.length;i++){var v=D.verdicts[td.classList[i]];if(v){return v;}}
    return D.verdicts['-'];
  }
  function cellLabel(tr,ci){
    var r=D.rows[rowOf[tr.id]], v=verdictOf(tr.cells[ci+1]), reason=r.r&&r.r[String(ci)];
    return v[0]==='error'&&reason?'error ('+reason+'): the suite could not observe':v[1];
  }
  function cellDetails(tr,ci){
    var r=D.rows[rowOf[tr.id]], c=D.cells[ci], key=String(ci), v=verdictOf(tr.cells[ci+1]);
    var when=r.w&&r.w[key]!==undefined?r.w[key]:D.observed[r.o][ci], w=when?D.when[when-1]:null;
    var head=add(el('p'),link(D.cases[r.c]||r.c,'#case-'+r.c),document.createTextNode(' · '+r.role+' · '),el('code',r.t));
    var seen=[
      ['verdict',add(el('span'),el('span',v[2]||'·','v '+(classOf[v[0]]||'')),document.createTextNode(' '+cellLabel(tr,ci)))],
      ['error reason',r.r&&r.r[key]],
      ['observed',w?w[0]+(w[1]?' (reused from the result store)':' (in the run that made this report)'):''],
      ['re-run',r.x&&r.x[key]?r.x[key].join(', ')+' (first run, then re-runs)':'']
    ];
    var msg=r.m&&r.m[key]!==undefined?message(r.m[key]):null;
    var share=add(el('p',null,'links'),link('link to this cell','#'+r.a+'&'+c.a));
    openPanel(cellLabel(tr,ci),[head,pairs(seen),msg?el('h3','message'):null,msg,
      el('h3','cell '+c.id),pairs(c.d),cellFiles(c),share],tr.cells[ci+1]);
  }
  function columnDetails(ci){
    var c=D.cells[ci];
    openPanel('cell '+c.id,[el('p',c.s),pairs(c.d),c.m!==undefined?el('h3','why it did not run its cases'):null,
      message(c.m),cellFiles(c),add(el('p',null,'links'),link('link to this column','#'+c.a))],headRow.cells[ci+1]);
  }
  function show(target){
    if(target.classList.contains('cellhead')){columnDetails(target.cellIndex-1);}
    else{cellDetails(target.parentNode,target.cellIndex-1);}
  }

  // ---- the grid from the keyboard: one tab stop, arrows move, Enter or Space opens the details
  var current=null;
  function isCell(t){return t&&((t.tagName==='TD'&&!t.classList.contains('fill')&&t.parentNode.classList.contains('test'))||(t.tagName==='TH'&&t.classList.contains('cellhead')));}
  function setCurrent(t,focus){
    if(current&&current!==t){current.removeAttribute('tabindex');}
    current=t;t.tabIndex=0;
    if(t.tagName==='TD'){t.setAttribute('aria-label',cellLabel(t.parentNode,t.cellIndex-1)+' — '+D.cells[t.cellIndex-1].id);}
    if(focus){t.focus();}
  }
  var first=grid.querySelector('tr.test td')||headRow.cells[1];
  if(first){first.tabIndex=0;current=first;}
  grid.addEventListener('click',function(e){
    if(e.target.closest('a')){return;}
    var t=e.target.closest('td,th');
    if(!isCell(t)){return;}
    setCurrent(t,false);show(t);
  });
  grid.addEventListener('focusin',function(e){if(isCell(e.target)&&e.target!==current){setCurrent(e.target,false);}});
  grid.addEventListener('keydown',function(e){
    var t=e.target;
    if(!isCell(t)){return;}
    if(e.key==='Enter'||e.key===' '){e.preventDefault();show(t);return;}
    var rows=[headRow].concat(q('tr.test').filter(function(r){return !r.classList.contains('hidden');}));
    var ri=rows.indexOf(t.parentNode), ci=t.cellIndex, next=null;
    if(e.key==='ArrowRight'){next=t.parentNode.cells[ci+1];}
    else if(e.key==='ArrowLeft'&&ci>1){next=t.parentNode.cells[ci-1];}
    else if(e.key==='ArrowDown'&&ri<rows.length-1){next=rows[ri+1].cells[ci];}
    else if(e.key==='ArrowUp'&&ri>0){next=rows[ri-1].cells[ci];}
    else{return;}
    e.preventDefault();
    if(next){setCurrent(next,true);}
  });

  // ---- links to a row and a column (#row-…&col-…): both in view below the sticky header, highlighted
  function clearHighlight(){
    q('.hl').forEach(function(e){e.classList.remove('hl');});
    q('.hlc').forEach(function(e){e.classList.remove('hlc');});
  }
  function reveal(tr,ci){
    clearHighlight();
    if(tr&&tr.classList.contains('hidden')){showAll();}
    if(tr){tr.classList.add('hl');}
    if(ci!==undefined){
      headRow.cells[ci+1].classList.add('hlc');
      q('tr.test').forEach(function(r){r.cells[ci+1].classList.add('hlc');});
    }
    // The page first, so that the whole matrix box is on screen, then the box itself.
    var box=scroller.getBoundingClientRect();
    if(box.top<0||box.bottom>window.innerHeight){window.scrollBy(0,box.top);box=scroller.getBoundingClientRect();}
    var head=grid.tHead.getBoundingClientRect().height, left=headRow.cells[0].getBoundingClientRect().width;
    if(tr){
      var r=tr.getBoundingClientRect(), room=scroller.clientHeight-head;
      scroller.scrollTop+=r.top-(box.top+scroller.clientTop+head)-Math.max(0,Math.min(room-r.height,3*r.height));
    }
    if(ci!==undefined){
      var c=headRow.cells[ci+1].getBoundingClientRect(), width=scroller.clientWidth-left;
      scroller.scrollLeft+=c.left-(box.left+scroller.clientLeft+left)-Math.max(0,(width-c.width)/2);
    }
    var target=tr&&ci!==undefined?tr.cells[ci+1]:tr?tr.cells[1]:headRow.cells[ci+1];
    if(target){setCurrent(target,false);}
  }
  function go(){
    var parts;
    try{parts=decodeURIComponent(location.hash.slice(1)).split('&');}catch(err){return;}  // a malformed address
    var target=parts[0]&&byId(parts[0]);
    if(!target){return;}
    if(target.tagName==='DETAILS'){target.open=true;return;}  // a closed <details> hides its content
    if(target.tagName==='TR'&&target.classList.contains('test')){reveal(target,colOf[parts[1]]);}
    else if(target.classList.contains('cellhead')){reveal(null,colOf[parts[0]]);}
  }
  // A link on the page is followed at once (not when the hashchange event comes), and followed again when
  // it is the address already (no hashchange then, yet the reader asks to be brought there again).
  document.addEventListener('click',function(e){
    var a=e.target.closest('a[href^="#"]');
    if(!a||e.defaultPrevented||e.button!==0||e.metaKey||e.ctrlKey||e.shiftKey||e.altKey){return;}
    e.preventDefault();
    if(location.hash!==a.getAttribute('href')){location.hash=a.getAttribute('href');}
    go();
  });
  window.addEventListener('hashchange',go);
  // Once now, and once after the browser's own jump to the fragment (which knows no sticky header).
  go();
  window.addEventListener('load',function(){setTimeout(go,0);});

  // ---- a test's messages in its case's details, from the table of messages, when opened
  document.addEventListener('toggle',function(e){
    var d=e.target;
    if(d.classList&&d.classList.contains('msg')&&d.open&&!d.querySelector('pre')){add(d,message(Number(d.dataset.m)));}
  },true);

  // ---- compare two releases
  function compare(){
    var C=D.compare, pk=byId('cmp-package'), from=byId('cmp-from'), to=byId('cmp-to'), out=byId('cmp-out');
    var names=Object.keys(C);
    if(!names.length){out.textContent='No version line in this run: nothing to compare.';byId('cmp').hidden=true;return;}
    function options(select,values){select.textContent='';values.forEach(function(v){add(select,el('option',v)).lastChild.value=v;});}
    options(pk,names);pk.value=names.indexOf('fastapi')>=0?'fastapi':names[0];
    function releases(){var o=C[pk.value].order;options(from,o);options(to,o);from.value=o[0];to.value=o[o.length-1];}
    function at(intervals,k,rank){
      for(var i=0;i<intervals.length;i++){if(rank[intervals[i][1]]<=k&&k<=rank[intervals[i][2]]){return intervals[i][0];}}
      return null;
    }
    function render(){
      var P=C[pk.value], rank={};
      P.order.forEach(function(v,i){rank[v]=i;});
      var a=rank[from.value], b=rank[to.value];
      if(a>b){var s=a;a=b;b=s;}
      var low=P.order[a], high=P.order[b], byCase={}, differ=0, unknown=0, same=0;
      P.tests.forEach(function(t){
        var iv=t[1], old=at(iv,a,rank), now=at(iv,b,rank), changes=[];
        for(var i=1;i<iv.length;i++){
          var k=rank[iv[i][1]];
          if(a<k&&k<=b){changes.push(iv[i-1][0]+' \u2192 '+iv[i][0]+' at '+iv[i][1]+' (last '+iv[i-1][0]+': '+iv[i-1][2]+')');}
        }
        if(old!==null&&now!==null&&old===now){same++;return;}
        if(old===null&&now===null&&!changes.length){return;}
        if(old===null||now===null){unknown++;}else{differ++;}
        var row=D.rows[t[0]];
        (byCase[row.c]=byCase[row.c]||[]).push([row,old,now,changes]);
      });
      out.textContent='';
      var cases=Object.keys(D.cases).filter(function(c){return byCase[c];});
      add(out,el('p',pk.value+' '+low+' \u2192 '+high+': '+differ+' test verdict(s) differ in '+cases.length+' case(s); '+same+' the same'+(unknown?'; '+unknown+' not known at one of the two releases':'')+'.'));
      cases.forEach(function(c){
        add(out,add(el('h3'),link(D.cases[c],'#case-'+c),document.createTextNode(' ('+c+')')));
        var table=el('table',null,'plain');
        add(table,add(el('tr'),el('th','test'),el('th',low),el('th',high),el('th','changed at')));
        byCase[c].forEach(function(d){
          var test=add(el('td'),el('span',d[0].role,'role r-'+d[0].role),document.createTextNode(' '),link(d[0].t,'#'+d[0].a));
          var at=[d[1],d[2]].map(function(v){var td=add(el('td'),mark(v));td.dataset.v=v===null?'unknown':v;return td;});
          add(table,add(el('tr'),test,at[0],at[1],el('td',d[3].join('; ')||'-')));
        });
        add(out,table);
      });
    }
    pk.addEventListener('change',function(){releases();render();});
    from.addEventListener('change',render);to.addEventListener('change',render);
    byId('cmp').addEventListener('submit',function(e){e.preventDefault();});
    releases();render();
  }
  compare();
})();
