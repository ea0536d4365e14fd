# -*- coding: utf-8 -*-
# Copyright (c) virtops.devices contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report as one self-contained HTML page (no external script, font, style or request).

The summary (counts by state, one small bar chart per concern) is written here; the host table is
built in the browser from the report embedded as JSON, sortable by any column and filterable by
state, kind and text, with each host's details (IOMMU groups, VFs per NUMA node, guests) opened on
a click. Every text from the hosts goes into the page as text (escaped here, ``textContent`` in
the script), never as markup.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

try:
    from html import escape as _escape
except ImportError:  # Python 2
    from cgi import escape as _escape

COLORS = {
    'ready': '#2e7d32', 'ok': '#2e7d32', 'on': '#2e7d32', 'enabled': '#2e7d32', 'pv': '#2e7d32',
    'reboot_owed': '#f9a825', 'reboot owed': '#f9a825', 'not reported': '#9e9e9e',
    'change_needed': '#ef6c00', 'change needed': '#ef6c00', 'emulated': '#ef6c00',
    'not_ready': '#c62828', 'not ready': '#c62828', 'off': '#c62828', 'disabled': '#c62828',
    'error': '#6a1b9a', 'unreachable': '#37474f', 'unknown': '#bdbdbd', 'free': '#1565c0', 'used': '#90caf9',
}

STYLE = '''
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#212121;background:#fafafa}
header{padding:12px 20px;background:#263238;color:#fff}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#cfd8dc;font-size:12px}
main{padding:12px 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px;margin-bottom:14px}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 10px}
.card h2{font-size:13px;margin:0 0 6px;color:#455a64}
.bar{display:flex;height:14px;border-radius:3px;overflow:hidden;background:#eee}
.bar span{display:block;height:100%}
.legend{list-style:none;padding:0;margin:6px 0 0;font-size:12px;display:flex;flex-wrap:wrap;gap:4px 10px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.controls{display:flex;gap:10px;align-items:center;margin:6px 0 10px;flex-wrap:wrap}
.controls input,.controls select{font:inherit;padding:3px 6px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top;white-space:nowrap}
td.detail,td.detail td{white-space:normal}
th{position:sticky;top:0;background:#eceff1;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tr.host-row{cursor:pointer}tr.host-row:hover{background:#f5f5f5}
.state{display:inline-block;padding:0 6px;border-radius:9px;color:#fff;font-size:12px;white-space:nowrap}
.reasons{color:#555;max-width:420px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
td.detail{background:#fcfcfc;padding:8px 16px}
td.detail h3{font-size:13px;margin:8px 0 4px}
td.detail table{width:auto;margin-bottom:6px}
#count{color:#555}
'''

SCRIPT = r'''
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("fleet-data").textContent);
  var colors = JSON.parse(document.getElementById("fleet-colors").textContent);
  var rows = doc.hosts;
  var columns = [
    ["name", "Host"], ["kind", "Kind"], ["state", "State"], ["os", "OS"], ["kvm_ready", "KVM"],
    ["iommu_enabled", "IOMMU"], ["iommu_groups", "Groups"], ["interrupt_remapping", "IR"],
    ["boot_setup", "Boot"], ["entries_lacking_args", "Entries lacking"], ["reboot_owed", "Reboot owed"],
    ["assignable_devices", "Assignable"], ["vfs_free", "VFs free"], ["guests_emulated", "Guests emulated"],
    ["reasons", "Reasons"]
  ];
  var sortKey = "name", sortDir = 1;
  var body = document.getElementById("hosts-body");
  var head = document.getElementById("hosts-head");
  var text = document.getElementById("filter-text");
  var stateSel = document.getElementById("filter-state");
  var kindSel = document.getElementById("filter-kind");
  var countEl = document.getElementById("count");

  function el(tag, txt, cls) {
    var node = document.createElement(tag);
    if (txt !== undefined && txt !== null) { node.textContent = String(txt); }
    if (cls) { node.className = cls; }
    return node;
  }
  function show(v) {
    if (v === null || v === undefined) { return "-"; }
    if (v === true) { return "yes"; }
    if (v === false) { return "no"; }
    if (Array.isArray(v)) { return v.join("; "); }
    return String(v);
  }
  function badge(state) {
    var b = el("span", state, "state");
    b.style.background = colors[state] || "#757575";
    return b;
  }
  function table(headers, lines) {
    var t = el("table"), tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", h)); });
    t.appendChild(tr);
    lines.forEach(function (line) {
      var r = el("tr");
      line.forEach(function (c) { r.appendChild(el("td", show(c))); });
      t.appendChild(r);
    });
    return t;
  }
  function detail(row) {
    var td = el("td", null, "detail"), d = row.details || {};
    td.colSpan = columns.length;
    if (row.kind === "guest") {
      var pv = d.pv || {};
      td.appendChild(el("h3", "Guest drivers"));
      td.appendChild(table(["root bus", "NICs", "problems"], [[show((pv.root || {}).bus),
        (pv.nics || []).map(function (n) { return n.name + ": " + n.driver + " (" + n.bus + ")"; }), pv.problems || []]]));
      return td;
    }
    if (!row.details) { td.appendChild(el("p", show(row.reasons))); return td; }
    var boot = d.boot || {};
    td.appendChild(el("h3", "Boot entries lacking the arguments (" + show(boot.setup) + ")"));
    td.appendChild(table(["title", "kernel", "missing", "unwanted"], (boot.entries_lacking_args || []).map(function (e) {
      return [e.title, e.kernel, e.missing, e.unwanted]; })));
    var iommu = d.iommu || {}, cmd = iommu.cmdline || {};
    td.appendChild(el("h3", "IOMMU"));
    td.appendChild(table(["firmware (DMAR/IVRS)", "groups", "interrupt remapping", "running cmdline", "missing"],
      [[(iommu.firmware || {}).described, iommu.groups, iommu.interrupt_remapping, cmd.running, cmd.missing]]));
    var groups = (d.pci || {}).groups || {};
    td.appendChild(el("h3", "IOMMU groups and PCI devices"));
    td.appendChild(table(["address", "group", "group members", "class", "driver", "NUMA", "assignable", "held by"],
      ((d.pci || {}).devices || []).map(function (x) {
        return [x.address, x.iommu_group, groups[String(x.iommu_group)] || [], x.class_name, x.driver, x.numa_node,
                x.assignable, x.held_by]; })));
    var numa = (d.sriov || {}).numa || {};
    td.appendChild(el("h3", "SR-IOV VFs per NUMA node"));
    td.appendChild(table(["NUMA node", "PFs", "VFs", "used", "free"], Object.keys(numa).sort().map(function (k) {
      return [k, numa[k].pfs, numa[k].total, numa[k].used, numa[k].free]; })));
    td.appendChild(table(["PF", "netdev", "NUMA", "max VFs", "VFs", "used", "free"], ((d.sriov || {}).pfs || []).map(function (p) {
      return [p.address, p.netdev, p.numa_node, p.max_vfs, p.vfs, p.used, p.free]; })));
    td.appendChild(el("h3", "Guests (libvirt domains)"));
    td.appendChild(table(["domain", "running", "disk buses", "NIC models", "PV/virtio", "emulated"], (d.guests || []).map(function (g) {
      return [g.name, g.running, (g.disks || []).map(function (x) { return x.target + ":" + x.bus; }),
              (g.nics || []).map(function (x) { return x.model || "default"; }), g.pv, g.emulated]; })));
    return td;
  }
  function matches(row) {
    var st = stateSel.value, kd = kindSel.value, q = text.value.trim().toLowerCase();
    if (st && row.state !== st) { return false; }
    if (kd && row.kind !== kd) { return false; }
    if (q) {
      var hay = [row.name, row.os, row.state, row.boot_setup, show(row.reasons)].join(" ").toLowerCase();
      if (hay.indexOf(q) < 0) { return false; }
    }
    return true;
  }
  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (Array.isArray(x)) { x = x.join(" "); }
    if (Array.isArray(y)) { y = y.join(" "); }
    if (x === y) { return a.name < b.name ? -1 : 1; }
    if (x === null || x === undefined) { return 1; }
    if (y === null || y === undefined) { return -1; }
    return (x < y ? -1 : 1) * sortDir;
  }
  function render() {
    var shown = rows.filter(matches).sort(compare);
    var frag = document.createDocumentFragment();
    shown.forEach(function (row) {
      var tr = el("tr", null, "host-row");
      tr.setAttribute("data-host", row.name);
      tr.setAttribute("data-state", row.state);
      columns.forEach(function (c) {
        var td;
        if (c[0] === "state") { td = el("td"); td.appendChild(badge(row.state)); }
        else { td = el("td", show(row[c[0]]), c[0] === "reasons" ? "reasons" : null); }
        if (c[0] === "reasons") { td.title = show(row.reasons); }
        tr.appendChild(td);
      });
      tr.addEventListener("click", function () {
        var next = tr.nextSibling;
        if (next && next.className === "detail-row") { next.parentNode.removeChild(next); return; }
        var dr = el("tr", null, "detail-row");
        dr.appendChild(detail(row));
        tr.parentNode.insertBefore(dr, tr.nextSibling);
      });
      frag.appendChild(tr);
    });
    body.textContent = "";
    body.appendChild(frag);
    countEl.textContent = shown.length + " of " + rows.length + " hosts shown";
    Array.prototype.forEach.call(head.children, function (th) {
      th.className = th.getAttribute("data-key") === sortKey ? (sortDir > 0 ? "sorted-asc" : "sorted-desc") : "";
    });
  }
  columns.forEach(function (c) {
    var th = el("th", c[1]);
    th.setAttribute("data-key", c[0]);
    th.addEventListener("click", function () {
      if (sortKey === c[0]) { sortDir = -sortDir; } else { sortKey = c[0]; sortDir = 1; }
      render();
    });
    head.appendChild(th);
  });
  var states = {};
  rows.forEach(function (r) { states[r.state] = (states[r.state] || 0) + 1; });
  Object.keys(states).sort().forEach(function (s) {
    var o = el("option", s + " (" + states[s] + ")");
    o.value = s;
    stateSel.appendChild(o);
  });
  [text, stateSel, kindSel].forEach(function (c) { c.addEventListener("input", render); c.addEventListener("change", render); });
  var wanted = (location.hash.match(/state=([a-z_]+)/) || [])[1];
  if (wanted) { stateSel.value = wanted; }
  render();
  document.body.setAttribute("data-ready", "1");
}());
'''


def esc(text):
    return _escape(u'%s' % (text,), quote=True)


def script_json(data):
    """JSON safe inside a <script> element (no '</script>', no '<!--')."""
    return json.dumps(data, sort_keys=True, separators=(',', ':')).replace('<', '\\u003c').replace(
        '>', '\\u003e').replace('&', '\\u0026')


def bar_chart(title, counts):
    total = sum(counts.values()) or 1
    parts, legend = [], []
    for value, number in counts.items():
        if not number:
            continue
        color = COLORS.get(value, '#757575')
        parts.append('<span style="width:%.2f%%;background:%s" title="%s: %d"></span>'
                     % (100.0 * number / total, color, esc(value), number))
        legend.append('<li><i style="background:%s"></i>%s <b>%d</b></li>' % (color, esc(value), number))
    return ('<div class="card"><h2>%s</h2><div class="bar" role="img" aria-label="%s">%s</div>'
            '<ul class="legend">%s</ul></div>' % (esc(title), esc(title), ''.join(parts), ''.join(legend)))


def render(doc, title='Fleet preflight report'):
    """The page for the report ``doc`` (the output of ``_aggregate.report``)."""
    summary = doc['summary']
    cards = [bar_chart(c['title'], c['counts']) for c in
             (summary['concerns'][name] for name in ('state', 'kvm', 'iommu', 'interrupt_remapping', 'boot', 'guests'))]
    vfs = summary['vfs']
    cards.append(bar_chart('SR-IOV VFs (%d)' % vfs['total'], {'free': vfs['free'], 'used': vfs['used']}))
    meta = '%d hosts, %d guest hosts; schema %s v%s; generated %s%s' % (
        summary['hosts'], summary['guest_hosts'], doc['schema'], doc['schema_version'],
        doc.get('generated_at') or '-', '; check mode' if doc.get('check_mode') else '')
    return u''.join([
        u'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        u'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        u'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; img-src data:">',
        u'<meta name="viewport" content="width=device-width, initial-scale=1">',
        u'<title>%s</title><style>%s</style></head><body>' % (esc(title), STYLE),
        u'<header><h1>%s</h1><p>%s</p></header><main>' % (esc(title), esc(meta)),
        u'<section class="cards" id="summary">%s</section>' % ''.join(cards),
        u'<section><div class="controls">',
        u'<label>Search <input id="filter-text" type="search" placeholder="host, OS, reason"></label>',
        u'<label>State <select id="filter-state"><option value="">all</option></select></label>',
        u'<label>Kind <select id="filter-kind"><option value="">all</option><option value="host">hypervisors</option>'
        u'<option value="guest">guests</option></select></label><span id="count"></span></div>',
        u'<table id="hosts"><thead><tr id="hosts-head"></tr></thead><tbody id="hosts-body"></tbody></table>',
        u'<noscript>The host table needs JavaScript; the same data is in fleet-report.json.</noscript>',
        u'</section></main>',
        u'<script type="application/json" id="fleet-data">%s</script>' % script_json(doc),
        u'<script type="application/json" id="fleet-colors">%s</script>' % script_json(COLORS),
        u'<script>%s</script></body></html>\n' % SCRIPT,
    ])
