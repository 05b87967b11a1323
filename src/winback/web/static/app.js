// winback console: light progressive enhancement (charts from the plotly wheel, the logged phone reveal).
(function () {
  "use strict";
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function api(method, url) {
    return fetch(url, { method: method, credentials: "same-origin",
      headers: { "X-CSRF-Token": cookie("csrf_token"), "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); });
  }
  var layout = { margin: { l: 50, r: 10, t: 10, b: 60 }, height: 280, font: { size: 12 } };
  var config = { displayModeBar: false, responsive: true };
  document.querySelectorAll("[data-plot]").forEach(function (el) {
    if (!window.Plotly) return;
    var d = JSON.parse(el.getAttribute("data-plot"));
    window.Plotly.newPlot(el, [{ type: "bar", x: d.x, y: d.y, marker: { color: "#1f6fbf" } }], layout, config);
  });
  document.querySelectorAll("[data-plot-ci]").forEach(function (el) {
    if (!window.Plotly) return;
    var d = JSON.parse(el.getAttribute("data-plot-ci"));
    var plus = d.ci.map(function (c, i) { return c ? c[1] - d.mid[i] : 0; });
    var minus = d.ci.map(function (c, i) { return c ? d.mid[i] - c[0] : 0; });
    window.Plotly.newPlot(el, [{ type: "scatter", mode: "markers", x: d.arms, y: d.mid, marker: { size: 12 },
      error_y: { type: "data", symmetric: false, array: plus, arrayminus: minus } }],
      Object.assign({}, layout, { shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 0, y1: 0,
        line: { dash: "dot", color: "#888" } }] }), config);
  });
  // one-tap outcomes: sent with fetch and retried on a flaky connection (the server records each outcome once)
  var labelsEl = document.getElementById("task-labels");
  var words = labelsEl ? JSON.parse(labelsEl.getAttribute("data-words")) : {};
  function send(url, body, tries) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": cookie("csrf_token"), "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .catch(function (err) {
        if (tries <= 1) throw err;
        return new Promise(function (res) { setTimeout(res, 800); }).then(function () { return send(url, body, tries - 1); });
      });
  }
  document.querySelectorAll("form.outcomes").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = ev.submitter, msg = form.querySelector(".task-msg");
      var card = form.closest("[data-task]");
      msg.textContent = "…";
      send("/api/tasks/" + encodeURIComponent(card.dataset.task) + "/outcome",
           { outcome: button.value, note: form.note.value || null }, 4)
        .then(function (r) {
          if (!r.ok) { msg.textContent = r.body.error.message; return; }
          form.querySelectorAll("button").forEach(function (b) { b.classList.toggle("on", b === button); });
          var status = (words.status || {})[r.body.status] || r.body.status;
          card.querySelector(".task-status").textContent = status + " · " + button.textContent;
          msg.textContent = words.saved || "";
        })
        .catch(function () { msg.textContent = words.retrying || ""; });
    });
  });
  document.querySelectorAll("[data-sankey]").forEach(function (el) {
    if (!window.Plotly) return;
    var d = JSON.parse(el.getAttribute("data-sankey"));
    window.Plotly.newPlot(el, [{ type: "sankey", arrangement: "snap",
      node: { label: d.labels, pad: 12, thickness: 14, color: "#1f6fbf" },
      link: { source: d.source, target: d.target, value: d.value, color: "rgba(31,111,191,0.25)" } }],
      Object.assign({}, layout, { height: 360, margin: { l: 10, r: 10, t: 10, b: 10 } }), config);
  });
  var reveal = document.getElementById("reveal");
  if (reveal) {
    reveal.addEventListener("click", function () {
      api("POST", "/api/members/" + encodeURIComponent(reveal.dataset.member) + "/phone").then(function (r) {
        var el = document.getElementById("phone");
        if (r.ok) { el.textContent = r.body.phone; reveal.remove(); }
        else { el.textContent = r.body.error.message; }
      });
    });
  }
})();
