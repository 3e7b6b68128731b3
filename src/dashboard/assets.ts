/**
 * The dashboard's only assets, served inline in every page: the stylesheet and the script of the live event
 * page. Nothing is fetched from elsewhere, so the dashboard works offline and under a strict CSP.
 */

export const stylesheet = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 8px 16px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #cfe3ff; text-decoration: none; } header h1 { font-size: 16px; margin: 0 16px 0 0; }
main { padding: 16px; } section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 12px; margin-bottom: 16px; overflow-x: auto; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eceff3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.shortfall-cell { color: #b3261e; } .badge { padding: 1px 6px; border-radius: 8px; background: #e8eefc; }
svg.statechart .state rect { fill: #fff; stroke: #8a94a6; stroke-width: 1.2; }
svg.statechart .state.compound > rect { fill: #f3f5f8; }
svg.statechart .state.visited > rect { stroke: #1a56db; stroke-width: 2; }
svg.statechart .state.active > rect { fill: #eef4ff; }
svg.statechart .state.current > rect { fill: #ffd54f; stroke: #c77700; stroke-width: 3; }
svg.statechart .state rect.inner { fill: none; }
svg.statechart text { font: 12px sans-serif; fill: #1d2330; }
svg.statechart .transition path { fill: none; stroke: #a0a8b5; stroke-width: 1; }
svg.statechart .transition text { font-size: 10px; fill: #6b7280; }
svg.statechart .transition.taken path { stroke: #1a56db; stroke-width: 2.2; }
svg.statechart .transition.taken text { fill: #1a56db; }
svg.statechart marker path { fill: #6b7280; }
svg.interval-chart .grid { stroke: #eceff3; } svg.interval-chart .axis { font-size: 11px; fill: #6b7280; }
svg.interval-chart .line { fill: none; stroke-width: 2; } svg.interval-chart .line.requested { stroke: #1a56db; }
svg.interval-chart .line.delivered { stroke: #0e9f6e; } svg.interval-chart .point.requested { fill: #1a56db; }
svg.interval-chart .point.delivered { fill: #0e9f6e; } svg.interval-chart .shortfall { fill: #f8b4b4; }
svg.interval-chart .legend { font-size: 11px; } svg.interval-chart .legend.requested { fill: #1a56db; }
svg.interval-chart .legend.delivered { fill: #0e9f6e; } svg.interval-chart .legend.shortfall { fill: #b3261e; }
ol.timeline { list-style: none; padding: 0; margin: 0; } ol.timeline li { border-left: 3px solid #1a56db; padding: 4px 10px; margin: 0 0 6px 4px; }
ol.timeline li.step-intra, ol.timeline li.step-inter { border-left-color: #c77700; background: #fff8e6; }
ol.timeline .time { color: #6b7280; font-variant-numeric: tabular-nums; } ol.timeline pre { margin: 4px 0 0; white-space: pre-wrap; font-size: 12px; max-height: 12em; overflow: auto; }
.live { font-size: 12px; color: #6b7280; }
`

/** The event page's live updates: re-highlight the chart and swap the server-rendered fragments. */
export const eventPageScript = `
(function () {
  var root = document.querySelector('[data-event-id]');
  if (!root || typeof EventSource === 'undefined') return;
  var status = document.getElementById('live');
  var source = new EventSource(root.getAttribute('data-stream'));
  source.onopen = function () { status.textContent = 'live'; };
  source.onerror = function () { status.textContent = 'reconnecting…'; };
  source.onmessage = function (message) {
    var update = JSON.parse(message.data);
    var sets = { current: update.highlight.current, active: update.highlight.active, visited: update.highlight.visited };
    document.querySelectorAll('svg.statechart [data-state-id]').forEach(function (el) {
      var id = el.getAttribute('data-state-id');
      var isCurrent = sets.current.indexOf(id) >= 0;
      el.classList.toggle('current', isCurrent);
      el.classList.toggle('active', !isCurrent && sets.active.indexOf(id) >= 0);
      el.classList.toggle('visited', sets.visited.indexOf(id) >= 0);
    });
    document.querySelectorAll('svg.statechart [data-transition-id]').forEach(function (el) {
      el.classList.toggle('taken', update.highlight.taken.indexOf(el.getAttribute('data-transition-id')) >= 0);
    });
    root.setAttribute('data-state', update.state);
    document.getElementById('summary').innerHTML = update.summaryHtml;
    document.getElementById('timeline').innerHTML = update.timelineHtml;
    document.getElementById('chart').innerHTML = update.chartSvg;
    document.getElementById('involved').innerHTML = update.involvedHtml;
  };
})();
`
