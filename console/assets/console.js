/* global window, document, fetch, history, location, EventSource, URLSearchParams, FormData, uPlot, performance, requestAnimationFrame, setTimeout */
// bos-fleet console: charts (uPlot), select-all checkboxes, in-place results of the miner table
// (sort, page, filter without reloading the page) and live job progress (server-sent events).
(function () {
  'use strict';

  function fmt(v, unit) { return v == null ? '—' : v.toFixed(v >= 100 ? 0 : 1) + ' ' + unit; }

  // Work on the chart is split over tasks (each its own turn of the event loop) so that no one task
  // holds the page for long: parse the answer; build the chart's elements; size and draw it.
  function nextTask() {
    return new Promise(function (resolve) {
      if (window.scheduler && typeof window.scheduler.postTask === 'function') window.scheduler.postTask(resolve);
      else setTimeout(resolve, 0);
    });
  }
  // uPlot is loaded with async (its evaluation is a task of its own, not part of the page's start)
  function uPlotReady() {
    if (typeof uPlot !== 'undefined') return Promise.resolve();
    var script = document.querySelector('script[data-uplot]');
    if (!script) return Promise.reject(new Error('the chart library is not on this page'));
    return new Promise(function (resolve, reject) {
      script.addEventListener('load', function () { resolve(); });
      script.addEventListener('error', function () { reject(new Error('the chart library did not load')); });
    });
  }

  function drawChart(el) {
    // the same request as the page's <link rel="preload" as="fetch">, so it is answered from that
    var answer = fetch(el.dataset.chart, { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); });
    Promise.all([answer, uPlotReady()])
      .then(function (all) { return nextTask().then(function () { return all[0]; }); })
      .then(function (d) {
        if (!d.x.length) { el.textContent = 'No data in this range yet.'; el.dataset.state = 'empty'; return; }
        // read before the chart's box changes, so the page's layout (done by now) is not redone here
        var width = Math.max(280, el.clientWidth);
        var height = el.clientWidth < 500 ? 200 : 260;
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
        return new Promise(function (resolve) {
          // uPlot calls this with its elements built but not yet sized or drawn: that is left to the next task
          new uPlot({ width: width, height: height, scales: scales, axes: axes, series: series },
            [d.x].concat(d.series.map(function (s) { return s.values; })), function (chart, draw) {
              nextTask().then(function () {
                el.textContent = '';
                el.appendChild(chart.root);
                draw();
                el.dataset.state = 'drawn';
                window.addEventListener('resize', function () { chart.setSize({ width: Math.max(280, el.clientWidth), height: chart.height }); });
                resolve();
              });
            });
        });
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
        if (!swapParts(old, fresh)) { old.replaceWith(fresh); init(fresh); }
        if (window.performance && window.requestAnimationFrame)
          requestAnimationFrame(function () { setTimeout(function () { performance.measure('console:swap ' + url, { start: started, end: performance.now() }); }, 0); });
        history.pushState({ part: id }, '', url);
      })
      .catch(function () { location.href = url; });
  }
  // When the new results have the same parts as the old (data-swap, in the same order: the same
  // columns, the same form), replace only those parts: the table element stays with its fixed
  // column widths, so the browser lays out the new rows without measuring the table again.
  function swapParts(old, fresh) {
    var olds = old.querySelectorAll('[data-swap]');
    var news = fresh.querySelectorAll('[data-swap]');
    if (olds.length === 0 || olds.length !== news.length) return false;
    for (var i = 0; i < olds.length; i++) if (olds[i].dataset.swap !== news[i].dataset.swap) return false;
    var focus = focusKey(old);
    for (i = 0; i < olds.length; i++) { olds[i].replaceWith(news[i]); init(news[i]); }
    old.setAttribute('data-query', fresh.getAttribute('data-query'));
    old.removeAttribute('aria-busy');
    if (focus) refocus(old, focus);
    return true;
  }
  // Keyboard focus on a sort header or pager link that is replaced goes to the same control in
  // the new part (a header by its column, a pager link by its text), not back to the page's start.
  function focusKey(box) {
    var a = document.activeElement;
    if (!a || a === box || !box.contains(a)) return null;
    var th = a.closest('th');
    if (th && th.parentElement && th.parentElement.parentElement.tagName === 'THEAD') return { column: th.cellIndex };
    return { text: a.textContent };
  }
  function refocus(box, key) {
    var to = null;
    if (key.column !== undefined) {
      var th = box.querySelectorAll('thead th')[key.column];
      to = th && th.querySelector('a, input');
    } else {
      var links = box.querySelectorAll('[data-swap] a[href]');
      for (var i = 0; i < links.length && !to; i++) if (links[i].textContent === key.text) to = links[i];
    }
    if (to) to.focus();
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
