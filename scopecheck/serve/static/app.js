/* scopecheck workstation page: talks to /api only, renders what the library returned. */
(function () {
  "use strict";
  var $ = function (sel) { return document.querySelector(sel); };
  var state = {shots: [], pickA: null, pickB: null, viewer: null, liveSeq: 0, hasDevice: true, tab: "live"};

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k]; else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function api(method, path, body) {
    var opts = {method: method, headers: {}, credentials: "same-origin"};
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.json().catch(function () { return {error: "HTTP " + r.status}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error || j.detail && JSON.stringify(j.detail) || ("HTTP " + r.status));
        return j;
      });
    });
  }
  function q(name) { return encodeURIComponent(name); }
  function bytes(n) { return n > 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.round(n / 1024) + " kB"; }

  // ------------------------------------------------------------------ tabs
  function showTab(name) {
    state.tab = name;
    document.querySelectorAll(".tab").forEach(function (s) { s.hidden = s.id !== "tab-" + name; });
    document.querySelectorAll("nav a").forEach(function (a) { a.classList.toggle("active", a.getAttribute("data-tab") === name); });
    if (name === "shots" || name === "compare" || name === "dupes") loadShots();
  }
  function route() { var h = location.hash.replace("#", "") || "live"; showTab(["live", "shots", "compare", "dupes"].indexOf(h) >= 0 ? h : "live"); }
  window.addEventListener("hashchange", route);

  // ------------------------------------------------------------------ live view
  function drawHistogram(h) {
    var c = $("#hist"), g = c.getContext("2d"), max = Math.max.apply(null, h.concat([1]));
    g.clearRect(0, 0, c.width, c.height);
    g.fillStyle = "#ddd"; g.fillRect(0, 0, c.width, c.height);
    g.fillStyle = "#333";
    var w = c.width / h.length;
    h.forEach(function (v, i) { var bh = v / max * (c.height - 2); g.fillRect(i * w, c.height - bh, Math.max(1, w - 0.5), bh); });
  }
  function showStatus(st) {
    var b = $("#live-status");
    b.className = "banner " + st.state;
    b.setAttribute("data-state", st.state);
    var what = {live: "live", opening: "opening the device…", lost: "no picture", shooting: "taking a shot…",
                closed: "closed", none: "no device"}[st.state] || st.state;
    b.textContent = st.device ? st.device + ": " + what + (st.message ? " — " + st.message : "") : (st.message || what);
    if (st.camera) $("#device-line").textContent = st.camera.device + " · " + st.camera.kind + " · " + st.camera.backend +
      " · " + st.camera.size;
    renderControls(st.controls || []);
  }
  function renderControls(rows) {
    var body = $("#controls tbody");
    if (document.activeElement && body.contains(document.activeElement)) return;  // do not fight the user
    body.innerHTML = "";
    rows.forEach(function (r) {
      var o = r.outcome || {}, f = r.found || {};
      var status = o.status || (f.status === "unsupported" ? "unsupported" : "as found");
      var rb = o.status ? o.readback : f.readback, unit = o.unit || f.unit;
      var input = el("input", {size: "6", placeholder: "value", "aria-label": r.control + " value"});
      function send(mode) {
        api("POST", "/api/device/controls", {control: r.control, mode: mode}).then(refreshDevice)
          .catch(function (e) { $("#live-status").textContent = e.message; });
      }
      var bAuto = el("button", {type: "button", text: "auto"}), bLock = el("button", {type: "button", text: "lock"});
      var bSet = el("button", {type: "button", text: "set"});
      bAuto.onclick = function () { send("auto"); }; bLock.onclick = function () { send("lock"); };
      bSet.onclick = function () { if (input.value) send(input.value); };
      body.appendChild(el("tr", {"data-control": r.control}, [
        el("td", {text: r.control}), el("td", {text: String(r.requested)}),
        el("td", {class: "status " + status.replace(" ", "-"), text: status, title: o.note || f.note || ""}),
        el("td", {text: rb === undefined || rb === null ? "–" : rb + (unit ? " " + unit : "")}),
        el("td", {class: "nowrap"}, [bAuto, bLock, input, bSet])]));
    });
  }
  function refreshDevice() { return api("GET", "/api/device").then(function (st) { state.hasDevice = st.state !== "none"; showStatus(st); }); }

  function liveLoop() {
    if (!state.hasDevice) return;
    if (state.tab !== "live" || document.hidden) { setTimeout(liveLoop, 500); return; }
    fetch("/api/live.jpg?after=" + state.liveSeq + "&timeout=3", {credentials: "same-origin", cache: "no-store"})
      .then(function (r) {
        if (r.status === 204) throw new Error("no new frame");  // shooting, lost or reopening
        if (!r.ok) throw new Error("no frame");
        state.liveSeq = Number(r.headers.get("X-Frame-Seq")) || state.liveSeq;
        return r.blob();
      })
      .then(function (blob) {
        var img = $("#live-img"), old = img.src;
        img.src = URL.createObjectURL(blob);
        if (old && old.indexOf("blob:") === 0) URL.revokeObjectURL(old);
        return api("GET", "/api/live");
      })
      .then(function (j) {
        showStatus(j.status);
        if (j.frame) {
          $("#focus").textContent = j.frame.focus.toFixed(1);
          drawHistogram(j.frame.histogram);
          var c = $("#clip");
          c.hidden = !j.frame.clipping;
          c.textContent = "CLIPPING: " + (100 * j.frame.clip_black).toFixed(1) + " % black, " +
            (100 * j.frame.clip_white).toFixed(1) + " % white";
        }
        setTimeout(liveLoop, 150);
      })
      .catch(function () { refreshDevice().catch(function () {}); setTimeout(liveLoop, 300); });
  }

  $("#shoot-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target, btn = $("#shoot");
    btn.disabled = true;
    $("#shoot-result").textContent = "shooting…";
    api("POST", "/api/shots", {frames: Number(f.frames.value), warmup: f.warmup.value, stack: f.stack.value,
                               depth: Number(f.depth.value)})
      .then(function (s) {
        var name = s.path.split("/").pop();
        $("#shoot-result").innerHTML = "";
        $("#shoot-result").appendChild(el("div", {class: "ok"}, ["saved ", el("b", {class: "shot-name", text: name}),
          " " + s.width + "x" + s.height + ", " + s.frames.stacked + " frames stacked, pixel sha256 " + s.pixel_sha256.slice(0, 16)]));
        return loadShots();
      })
      .catch(function (e) { $("#shoot-result").textContent = "shot failed: " + e.message; })
      .then(function () { btn.disabled = false; refreshDevice().catch(function () {}); });
  });

  // ------------------------------------------------------------------ gallery
  function loadShots() {
    return api("GET", "/api/shots").then(function (j) {
      state.shots = j.shots;
      $("#shots-dir").textContent = j.dir + " · " + j.shots.length + " image(s)";
      renderGallery();
      fillSelects();
    }).catch(function (e) { $("#shots-dir").textContent = e.message; });
  }
  function renderGallery() {
    var g = $("#gallery");
    g.innerHTML = "";
    state.shots.forEach(function (s) {
      var pickA = el("input", {type: "radio", name: "pickA", value: s.name, "aria-label": "A: " + s.name});
      var pickB = el("input", {type: "radio", name: "pickB", value: s.name, "aria-label": "B: " + s.name});
      pickA.checked = state.pickA === s.name; pickB.checked = state.pickB === s.name;
      pickA.onchange = function () { state.pickA = s.name; }; pickB.onchange = function () { state.pickB = s.name; };
      var img = el("img", {src: "/api/thumb?name=" + q(s.name), alt: s.name, loading: "lazy"});
      var card = el("figure", {class: "card", "data-name": s.name}, [img,
        el("figcaption", {}, [el("b", {text: s.name}), el("br"),
          (s.width ? s.width + "x" + s.height + " · " : "") + bytes(s.size) + " · " + s.mtime.replace("T", " ").slice(0, 19),
          s.pixel_sha256 ? el("div", {class: "mono", text: "pixels " + s.pixel_sha256.slice(0, 16)}) : null,
          el("div", {class: "picks"}, [el("label", {}, [pickA, " A"]), el("label", {}, [pickB, " B"]),
            s.manifest ? el("a", {href: "#shots", class: "show-manifest", text: "manifest"}) : el("span", {class: "muted", text: "no manifest"})])])]);
      var link = card.querySelector(".show-manifest");
      if (link) link.onclick = function (ev) {
        ev.preventDefault();
        api("GET", "/api/manifest?name=" + q(s.name)).then(function (m) {
          var pre = $("#manifest"); pre.hidden = false; pre.textContent = s.manifest + "\n" + JSON.stringify(m, null, 2);
          pre.scrollIntoView({block: "nearest"});
        });
      };
      g.appendChild(card);
    });
  }
  function fillSelects() {
    ["#cmp-a", "#cmp-b", "#needle"].forEach(function (sel, i) {
      var s = $(sel), keep = s.value;
      s.innerHTML = "";
      state.shots.forEach(function (shot) { s.appendChild(el("option", {value: shot.name, text: shot.name})); });
      if (keep) s.value = keep;
      else if (i === 1 && state.shots.length > 1) s.value = state.shots[0].name;
      else if (i === 0 && state.shots.length > 1) s.value = state.shots[1].name;
    });
  }
  $("#refresh-shots").onclick = loadShots;
  $("#compare-picked").onclick = function () {
    if (!state.pickA || !state.pickB) { $("#shots-dir").textContent = "pick an A and a B first"; return; }
    location.hash = "#compare";
    runCompare(state.pickA, state.pickB);
  };

  // ------------------------------------------------------------------ compare
  function runCompare(a, b) {
    $("#cmp-a").value = a; $("#cmp-b").value = b;
    $("#cmp-error").textContent = "comparing…";
    return api("POST", "/api/compare", {a: a, b: b}).then(function (c) {
      $("#cmp-error").textContent = "";
      $("#cmp-report").href = "/api/report?a=" + q(a) + "&b=" + q(b);
      $("#cmp-report").hidden = false;
      ScopeViewer.summary($("#cmp-summary"), c);
      if (state.viewer) state.viewer.destroy();
      function pg(n) { return c.images && n > 1 ? "&page=" + c.images.shown : ""; }  // a stack: the image the figures are of
      var va = {src: "/api/image?name=" + q(a) + pg(c.images ? c.images.a : 1), name: a},
          vb = {src: "/api/image?name=" + q(b) + pg(c.images ? c.images.b : 1), name: b};
      var regions = (c.regions || []).concat(c.alpha ? c.alpha.regions : []), width = c.a.width, height = c.a.height, w = c.window;
      if (w) {  // one is a crop of the other: the pair was judged on the window
        var big = w.side === "A" ? c.a : c.b;
        (w.side === "A" ? va : vb).box = {x: w.x, y: w.y, full_width: big.width, full_height: big.height};
        width = w.width; height = w.height;
        if (w.side === "A") regions = regions.map(function (r) { return Object.assign({}, r, {x: r.x - w.x, y: r.y - w.y}); });
      }
      state.viewer = ScopeViewer.mount($("#cmp-viewer"), {
        a: va, b: vb, heat: c.pixels_equal ? null : "/api/heat?a=" + q(a) + "&b=" + q(b),
        regions: regions, width: width, height: height});
      window.scopecheckViewer = state.viewer;
    }).catch(function (e) { $("#cmp-error").textContent = e.message; });
  }
  $("#compare-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    runCompare($("#cmp-a").value, $("#cmp-b").value);
  });

  // ------------------------------------------------------------------ duplicates and search
  function thumb(path, caption) {
    var link = el("a", {href: "#dupes", class: "thumb", title: path}, [
      el("img", {src: "/api/thumb?box=120&name=" + q(path), alt: path, loading: "lazy"}),
      el("span", {text: caption})]);
    return link;
  }
  function rel(path) { var d = $("#shots-dir").textContent.split(" · ")[0]; return path.indexOf(d + "/") === 0 ? path.slice(d.length + 1) : path; }
  $("#dedupe-go").onclick = function () {
    $("#dupes-error").textContent = "hashing…";
    api("POST", "/api/dedupe", {}).then(function (r) {
      $("#dupes-error").textContent = "";
      var out = $("#dupes"); out.innerHTML = "";
      out.appendChild(el("p", {text: r.files + " images; " + r.counts.exact + " exact-copy, " + r.counts.pixels +
        " same-pixel and " + r.counts.near + " near-duplicate group(s) within " + r.max_distance + " bits"}));
      r.groups.forEach(function (g) {
        var row = el("div", {class: "group", "data-kind": g.kind}, [el("div", {class: "group-head", text: g.kind + " · " + g.size + " files · max distance " + g.max_distance})]);
        var files = el("div", {class: "thumbs"}, g.files.map(function (f) { return thumb(f.path, rel(f.path) + " (" + f.distance + ")"); }));
        row.appendChild(files);
        if (g.files.length > 1) {
          var b = el("button", {type: "button", text: "compare first two"});
          b.onclick = function () { location.hash = "#compare"; runCompare(rel(g.files[0].path), rel(g.files[1].path)); };
          row.appendChild(b);
        }
        out.appendChild(row);
      });
    }).catch(function (e) { $("#dupes-error").textContent = e.message; });
  };
  $("#search-go").onclick = function () {
    $("#dupes-error").textContent = "searching…";
    api("POST", "/api/search", {needle: $("#needle").value}).then(function (r) {
      $("#dupes-error").textContent = "";
      var out = $("#dupes"); out.innerHTML = "";
      r.needles.forEach(function (n) {
        out.appendChild(el("p", {text: rel(n.path) + ": " + n.matches.length + " match(es) in " + r.haystack_size + " images within " + r.max_distance + " bits"}));
        out.appendChild(el("div", {class: "thumbs"}, n.matches.map(function (m) {
          return thumb(m.path, rel(m.path) + " (" + m.distance + (m.file_equal ? ", same file" : m.pixel_equal ? ", same pixels" : "") + ")");
        })));
      });
    }).catch(function (e) { $("#dupes-error").textContent = e.message; });
  };

  // ------------------------------------------------------------------ start
  route();
  refreshDevice().then(function () {
    if (!state.hasDevice) { $("#live-img").hidden = true; $("#shoot").disabled = true; }
    liveLoop();
  }).catch(function (e) { $("#live-status").textContent = e.message; });
  loadShots();
})();
