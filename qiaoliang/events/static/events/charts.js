/* Attendance by month as a bar chart (ECharts, vendored). The data and the translated series names come from
   the page through json_script; the table under the chart holds the same figures for readers without it. */
(function () {
  "use strict";
  var box = document.querySelector("[data-attendance-chart]");
  if (!box || !window.echarts) { return; }
  var source = document.getElementById(box.getAttribute("data-source"));
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  if (!data.months || !data.months.length) { box.hidden = true; return; }
  var chart = window.echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: data.months },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: data.labels.onsite, type: "bar", data: data.onsite },
      { name: data.labels.online, type: "bar", data: data.online },
      { name: data.labels.total, type: "line", data: data.total, symbolSize: 8 }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
