// KubePulse dashboard: theme, live refresh over server-sent events, and the few actions that
// change state (silences, feedback), sent as JSON to the same origin. No data is evaluated as
// code: pages are HTML from the server, parsed and swapped in.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = localStorage.getItem("kubepulse-theme");
  if (saved === "dark" || saved === "light") root.setAttribute("data-theme", saved);

  function status(text, bad) {
    var s = document.getElementById("status");
    if (!s) return;
    s.textContent = text;
    s.style.color = bad ? "var(--bad)" : "";
  }

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (r) {
      return r.text().then(function (t) {
        if (!r.ok) throw new Error(t || r.statusText);
        return t;
      });
    });
  }

  // `a="b", c=~"d"` as Alertmanager API matchers.
  function parseMatchers(text) {
    var parts = [], cur = "", quoted = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"' && text[i - 1] !== "\\") quoted = !quoted;
      if (c === "," && !quoted) { parts.push(cur); cur = ""; } else { cur += c; }
    }
    parts.push(cur);
    return parts.map(function (p) { return p.trim(); }).filter(Boolean).map(function (p) {
      var m = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/.exec(p);
      if (!m) throw new Error("bad matcher: " + p);
      var v = m[3].trim();
      if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = JSON.parse(v);
      return { name: m[1], value: v, isRegex: m[2].indexOf("~") >= 0, isEqual: m[2][0] !== "!" };
    });
  }

  // Replaces the page's main part with a fresh copy; a live refresh (not forced) waits while
  // the user is working inside it.
  function refresh(force) {
    return fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main"), old = document.getElementById("main");
        if (fresh && old && (force === true || !old.contains(document.activeElement))) {
          var msg = document.getElementById("status");
          var text = msg ? msg.textContent : "";
          old.replaceWith(fresh);
          var again = document.getElementById("status");
          if (again && text) again.textContent = text;
        }
      }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    var t = document.getElementById("theme");
    if (t) t.addEventListener("click", function () {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      localStorage.setItem("kubepulse-theme", next);
    });
    if (document.body.getAttribute("data-live") === "true" && window.EventSource) {
      var es = new EventSource("/ui/live");
      es.addEventListener("refresh", function () { refresh(false); });
    }
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest("button") : null;
      if (!b) return;
      if (b.classList.contains("silence-this")) {
        var input = document.getElementById("s-matchers");
        if (input) { input.value = b.getAttribute("data-matchers"); document.getElementById("s-author").focus(); }
      } else if (b.classList.contains("feedback")) {
        send("POST", "/api/v1/alerts/feedback", {
          fingerprint: b.getAttribute("data-fingerprint"), verdict: b.getAttribute("data-verdict")
        }).then(function () { status("Feedback recorded: " + b.getAttribute("data-verdict")); })
          .catch(function (err) { status(err.message, true); });
      } else if (b.classList.contains("expire")) {
        send("DELETE", "/api/v2/silence/" + encodeURIComponent(b.getAttribute("data-id")))
          .then(function () { status("Silence expired"); return refresh(true); })
          .catch(function (err) { status(err.message, true); });
      }
    });
    var fault = document.getElementById("fault-form");
    if (fault) fault.addEventListener("submit", function (e) {
      e.preventDefault();
      var opt = fault.kind.options[fault.kind.selectedIndex];
      var target = opt.getAttribute("data-target");
      var body = { kind: fault.kind.value, severity: parseFloat(fault.severity.value), duration: fault.duration.value };
      if (target === "node") {
        body.node = fault.node.value;
      } else {
        var v = (target === "service" ? fault.service.value : fault.workload.value).split("/");
        body.namespace = v[0];
        body[target] = v.slice(1).join("/");
      }
      send("POST", "/api/v1/simulator/faults", body)
        .then(function () { status(body.kind + " injected"); return refresh(true); })
        .catch(function (err) { status(err.message, true); });
    });
    var form = document.getElementById("silence-form");
    if (form) form.addEventListener("submit", function (e) {
      e.preventDefault();
      var now = new Date(), secs = parseInt(form.duration.value, 10);
      var body;
      try {
        body = {
          matchers: parseMatchers(form.matchers.value),
          startsAt: now.toISOString(),
          endsAt: new Date(now.getTime() + secs * 1000).toISOString(),
          createdBy: form.author.value, comment: form.comment.value
        };
      } catch (err) { status(err.message, true); return; }
      send("POST", "/api/v2/silences", body)
        .then(function (t) { status("Silence " + JSON.parse(t).silenceID + " created"); return refresh(true); })
        .catch(function (err) { status(err.message, true); });
    });
  });
})();
