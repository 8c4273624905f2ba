"""The report page's inline CSS and script (no CDN: the page must work offline from file://)."""

HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>fastapi-known-issues report</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 1.5rem 3rem;color:#1b1f24;background:#fff}
h1{margin:.8rem 0 .2rem}.meta{color:#555;margin:0 0 1rem}
#summary{display:flex;flex-wrap:wrap;gap:.75rem;margin-bottom:1rem}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem .9rem;min-width:11rem}
.card .n{font-size:1.9rem;font-weight:700}.card .t{font-weight:600}.card .note{color:#555;font-size:.85rem}
.legend{font-size:.85rem}
#filters fieldset{border:1px solid #d0d7de;border-radius:8px}#filters label{margin-right:.8rem;white-space:nowrap}
.scroll{overflow:auto;max-height:80vh;border:1px solid #d0d7de}
table.grid{border-collapse:collapse;font-size:12px}
.grid th,.grid td{border:1px solid #e1e4e8;padding:1px 3px}
.grid thead th{position:sticky;top:0;background:#f6f8fa;z-index:2}
.grid thead tr:nth-child(2) th{top:1.6em}
.grid .rowhead{position:sticky;left:0;background:#fff;text-align:left;z-index:1;min-width:22rem;max-width:30rem}
.grid thead .rowhead{z-index:3;background:#f6f8fa}
.grid tr.case th{background:#eef2f6;font-weight:600}
.cellhead{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:400;height:10rem;vertical-align:bottom;text-align:left}
.cellhead span{display:inline-block;max-height:10rem;overflow:hidden}
.group{font-weight:600;text-align:left}
td.v,span.v{text-align:center;font-weight:700;min-width:1.6em;display:table-cell}
span.v{display:inline-block;padding:0 .3em;border-radius:3px}
.v-reproduces{background:#ffd8d3;color:#8a1c12}.v-fixed{background:#d2f4d9;color:#105e25}
.v-holds,.v-works{background:#dcebff;color:#0b3d91}.v-broken{background:#ffe3b3;color:#7a4100}
.v-error{background:#7a0000;color:#fff}.v-n-a{background:#f3f3f3;color:#666}
.v-not-installable{background:#e9e3f5;color:#4b3a78}.v-incompatible{background:#fff3a6;color:#5c4d00}
.v-none{background:#fff}
.role{font-size:.75rem;border-radius:3px;padding:0 .3em;border:1px solid #999}
.r-bug{border-color:#c9372c;color:#8a1c12}.r-workaround{border-color:#0b6bcb;color:#0b3d91}.r-pattern{border-color:#2f7d32;color:#1f5c22}
.kind{font-size:.75rem;color:#555;border:1px solid #ccc;border-radius:3px;padding:0 .3em}
.claim{font-size:.75rem;padding:0 .3em;border-radius:3px}
.c-confirmed{background:#d2f4d9}.c-contradicted{background:#ffd8d3}.c-unverifiable{background:#eee}
.case-detail{border-top:1px solid #d0d7de;padding:.4rem 0}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem;border-radius:6px;max-height:24rem;overflow:auto}
table.plain{border-collapse:collapse}table.plain td,table.plain th{border:1px solid #d0d7de;padding:2px 6px;text-align:left;vertical-align:top}
.hidden{display:none}
/*PYGMENTS*/
</style></head><body>
"""

SCRIPT = """<script>
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
})();
</script>"""
