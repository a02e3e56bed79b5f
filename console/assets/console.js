/* global window, document, fetch, history, location, EventSource, URLSearchParams, FormData, uPlot, performance, requestAnimationFrame, setTimeout */
// bos-fleet console: charts (uPlot), select-all checkboxes, in-place results of the miner table
// (sort, page, filter without reloading the page) and live job progress (server-sent events).
(function () {
  'use strict';

  function fmt(v, unit) { return v == null ? '—' : v.toFixed(v >= 100 ? 0 : 1) + ' ' + unit; }

  function drawChart(el) {
    if (typeof uPlot === 'undefined') return;
    // the same request as the page's <link rel="preload" as="fetch">, so it is answered from that
    fetch(el.dataset.chart, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      // the chart is built in a task of its own, not in the one that parsed the answer: each stays short
      .then(function (d) { return new Promise(function (resolve) { setTimeout(function () { resolve(d); }, 0); }); })
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
    root.querySelectorAll('[data-stream]').forEach(follow);
    if (root === document) {
      var part = document.querySelector('[data-query]');
      if (part) history.replaceState({ part: part.id }, '', location.href);
    }
    root.querySelectorAll('input[data-select-all]').forEach(function (box) {
      box.addEventListener('change', function () {
        document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (c) { c.checked = box.checked; });
      });
    });
  }

  // ---- results swapped in place: the server answers only the part named in x-console-part ----
  var latest = null;
  // performance.measure('console:swap', …) from the click to the frame after the swap: what the
  // interaction costs in the page (the bench reads it; devtools shows it).
  function loadPart(id, url) {
    latest = url;
    var started = window.performance ? performance.now() : 0;
    var box = document.getElementById(id);
    if (box) box.setAttribute('aria-busy', 'true');
    fetch(url, { credentials: 'same-origin', headers: { 'x-console-part': id } })
      .then(function (r) {
        // a redirect (session ended: the login page) or an error: let the browser show it
        if (!r.ok || r.redirected) throw new Error('HTTP ' + r.status);
        return r.text();
      })
      .then(function (text) {
        if (url !== latest) return; // a newer click won
        var old = document.getElementById(id);
        if (!old) { location.href = url; return; }
        var tpl = document.createElement('template');
        tpl.innerHTML = text;
        var fresh = tpl.content.firstElementChild;
        old.replaceWith(fresh);
        init(fresh);
        if (window.performance && window.requestAnimationFrame)
          requestAnimationFrame(function () { setTimeout(function () { performance.measure('console:swap ' + url, { start: started, end: performance.now() }); }, 0); });
        history.pushState({ part: id }, '', url);
      })
      .catch(function () { location.href = url; });
  }
  document.addEventListener('click', function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var a = e.target.closest && e.target.closest('a[href]');
    if (!a) return;
    var box = a.closest('[data-query]');
    var href = a.getAttribute('href');
    // sort headers and pager links of the same list (not the links to one miner)
    if (!box || href.split('?')[0] !== location.pathname) return;
    e.preventDefault();
    loadPart(box.id, href);
  });
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.dataset || !form.dataset.results || (form.method || 'get').toLowerCase() !== 'get') return;
    e.preventDefault();
    var params = new URLSearchParams();
    new FormData(form).forEach(function (v, k) { if (typeof v === 'string' && v.trim() !== '') params.append(k, v.trim()); });
    var qs = params.toString();
    loadPart(form.dataset.results, form.getAttribute('action') + (qs ? '?' + qs : ''));
  });
  // Back/forward over swapped results: load the page of that address.
  window.addEventListener('popstate', function (e) { if (e.state && e.state.part) location.reload(); });

  // ---- live job progress: the server sends the progress fragment as it changes ----
  function follow(el) {
    if (typeof EventSource === 'undefined' || !el.dataset.stream) return;
    var source = new EventSource(el.dataset.stream);
    source.addEventListener('progress', function (e) {
      var cur = document.getElementById(el.id);
      if (!cur) { source.close(); return; }
      var tpl = document.createElement('template');
      tpl.innerHTML = e.data;
      var fresh = tpl.content.firstElementChild;
      // keep keyboard focus on a button that is still there after the swap
      var form = document.activeElement && cur.contains(document.activeElement) ? document.activeElement.closest('form') : null;
      var action = form ? form.getAttribute('action') : null;
      cur.replaceWith(fresh);
      var again = action ? fresh.querySelector('form[action="' + action + '"] button') : null;
      if (again) again.focus();
    });
    source.addEventListener('end', function () { source.close(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { init(document); });
  else init(document);
})();
