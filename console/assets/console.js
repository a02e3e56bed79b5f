/* global window, document, fetch, uPlot */
// bos-fleet console: charts (uPlot), select-all checkboxes, and the CSRF header on htmx requests.
(function () {
  'use strict';

  function fmt(v, unit) { return v == null ? '—' : v.toFixed(v >= 100 ? 0 : 1) + ' ' + unit; }

  function drawChart(el) {
    if (typeof uPlot === 'undefined') return;
    fetch(el.dataset.chart, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (d) {
        el.textContent = '';
        if (!d.x.length) { el.textContent = 'No data in this range yet.'; el.dataset.state = 'empty'; return; }
        var colours = ['#0550ae', '#8c959f', '#bc4c00', '#116329', '#8250df'];
        var scales = { x: { time: true } };
        var axes = [{}];
        var seen = {};
        var series = [{}];
        d.series.forEach(function (s, i) {
          if (!seen[s.scale]) {
            seen[s.scale] = true;
            scales[s.scale] = { auto: true };
            axes.push({ scale: s.scale, side: axes.length === 1 ? 3 : 1, label: s.unit, grid: { show: axes.length === 1 },
              values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : +v.toFixed(1); }); } });
          }
          series.push({ label: s.label + ' (' + s.unit + ')', scale: s.scale, stroke: colours[i % colours.length], width: 2,
            dash: s.dash ? [6, 4] : undefined, value: function (u, v) { return fmt(v, s.unit); } });
        });
        var width = Math.max(280, el.clientWidth);
        var u = new uPlot({ width: width, height: el.clientWidth < 500 ? 200 : 260, scales: scales, axes: axes, series: series },
          [d.x].concat(d.series.map(function (s) { return s.values; })), el);
        el.dataset.state = 'drawn';
        window.addEventListener('resize', function () { u.setSize({ width: Math.max(280, el.clientWidth), height: u.height }); });
      })
      .catch(function (e) { el.textContent = 'Chart unavailable: ' + e.message; el.dataset.state = 'error'; });
  }

  function init(root) {
    root.querySelectorAll('[data-chart]').forEach(drawChart);
    root.querySelectorAll('input[data-select-all]').forEach(function (box) {
      box.addEventListener('change', function () {
        document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (c) { c.checked = box.checked; });
      });
    });
  }

  // htmx requests carry the session's CSRF token from <meta name="csrf-token">.
  document.addEventListener('htmx:config:request', function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && e.detail && e.detail.ctx && e.detail.ctx.request) e.detail.ctx.request.headers['X-CSRF-Token'] = meta.content;
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { init(document); });
  else init(document);
})();
