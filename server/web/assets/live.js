// The live board: keeps the table in step with the server's stream. The
// server decides every row's alerts (the same rules as the desktop board);
// this only orders and writes them, in words (never colour alone).
"use strict";
(function () {
  var rows = {};
  var body = document.getElementById("board-rows");
  var summary = document.getElementById("live-summary");
  var conn = document.getElementById("live-connection");
  if (!body) { return; }

  function time(s) {
    var d = new Date(s);
    return isNaN(d) ? "" : d.toLocaleTimeString("en-GB");
  }
  function state(a) {
    if (!a.online) { return "offline"; }
    if (a.state === "paused" && a.reason_label) { return "paused: " + a.reason_label; }
    return a.state;
  }
  function cell(tr, label, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    td.dataset.label = label;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }
  function render() {
    var list = Object.keys(rows).map(function (k) { return rows[k]; });
    list.sort(function (a, b) {
      var na = (a.alerts || []).length, nb = (b.alerts || []).length;
      if (na !== nb) { return nb - na; }
      if (a.online !== b.online) { return a.online ? 1 : -1; }
      return a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0;
    });
    var online = 0, calls = 0, paused = 0, attention = 0;
    body.textContent = "";
    list.forEach(function (a) {
      var tr = document.createElement("tr");
      tr.dataset.agent = a.agent;
      cell(tr, "Officer", a.agent);
      cell(tr, "State", state(a), "state");
      cell(tr, "Since", time(a.since));
      cell(tr, "Call", a.call ? a.call.direction + " call with " + a.call.remote : "");
      var alerts = a.alerts || [];
      var td = cell(tr, "Attention", alerts.length ? "" : "none", alerts.length ? "attention" : "");
      alerts.forEach(function (al) {
        var s = document.createElement("span");
        s.className = "tag bad";
        s.textContent = "Needs attention: " + al.message;
        td.appendChild(s);
        td.appendChild(document.createTextNode(" "));
      });
      body.appendChild(tr);
      if (a.online) { online++; }
      if (a.call) { calls++; }
      if (a.state === "paused") { paused++; }
      if (alerts.length) { attention++; }
    });
    var empty = document.getElementById("board-empty");
    if (empty && list.length) { empty.remove(); }
    summary.textContent = list.length + " officers · " + online + " online · " + calls + " on a call · " +
      paused + " paused · " + attention + " need attention";
  }

  var es = new EventSource("/live/events");
  es.addEventListener("snapshot", function (e) {
    var d = JSON.parse(e.data);
    rows = {};
    (d.agents || []).forEach(function (a) { rows[a.agent] = a; });
    render();
    conn.textContent = "Live: the board updates by itself. Officers who need attention are listed first.";
  });
  es.addEventListener("agent", function (e) {
    var d = JSON.parse(e.data);
    rows[d.agent.agent] = d.agent;
    render();
  });
  es.onerror = function () {
    conn.textContent = "Connection to the server lost; reconnecting… (what you see may be out of date)";
  };
})();
