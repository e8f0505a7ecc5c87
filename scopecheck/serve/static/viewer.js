/* scopecheck image pair viewer: side by side, swipe, blink/flip, onion skin, heat map, regions,
   linked zoom and pan. No dependencies; shared by `scopecheck serve` and `compare --report`.

   ScopeViewer.mount(element, {a: {src, name[, box]}, b: {src, name[, box]}, heat: src|null, regions: [...],
                                width, height})  -> controller
   (box {x, y, full_width, full_height}: the image is larger than width x height and only that
   window of it is shown -- the larger side of a crop pair)
   ScopeViewer.summary(element, compareJson)     -> renders verdict, reason and the numbers
   Keys (when the viewer has focus or the pointer is over it): 1 / 2 show A / B, b blink,
   s side by side, w swipe, o onion, h heat, r regions, + / - zoom, 0 fit, arrows pan. */
(function (global) {
  "use strict";
  var MODES = [["side", "Side by side"], ["swipe", "Swipe"], ["blink", "Blink"],
               ["onion", "Onion skin"], ["heat", "Heat map"]];

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function mount(root, cfg) {
    var W = cfg.width, H = cfg.height;
    var st = {mode: "side", amounts: {swipe: 50, onion: 50, heat: 60}, shown: "a", blinking: true, regions: true, s: 1, tx: 0, ty: 0, fitted: true};
    var timer = null;
    root.innerHTML = "";
    root.classList.add("sv");
    root.tabIndex = 0;

    var modeButtons = MODES.map(function (m) {
      return el("button", {type: "button", "data-mode": m[0], text: m[1]});
    });
    var amount = el("input", {type: "range", min: "0", max: "100", value: "50", class: "sv-amount",
                              "aria-label": "split / blend"});
    var amountLabel = el("span", {class: "sv-amount-label"});
    var regionsBox = el("input", {type: "checkbox", class: "sv-regions-toggle"});
    regionsBox.checked = true;
    var shownLabel = el("span", {class: "sv-shown"});
    var zoomLabel = el("span", {class: "sv-zoom"});
    var fitBtn = el("button", {type: "button", class: "sv-fit", text: "Fit"});
    var oneBtn = el("button", {type: "button", class: "sv-one", text: "1:1"});
    var toolbar = el("div", {class: "sv-toolbar"}, modeButtons.concat([
      el("label", {class: "sv-amount-wrap"}, [amountLabel, amount]),
      el("label", {}, [regionsBox, document.createTextNode(" regions (" + (cfg.regions || []).length + ")")]),
      fitBtn, oneBtn, zoomLabel, shownLabel]));

    function pane(idx) {
      var a = el("img", {class: "sv-img sv-a", alt: "A " + cfg.a.name, src: cfg.a.src, draggable: "false"});
      var b = el("img", {class: "sv-img sv-b", alt: "B " + cfg.b.name, src: cfg.b.src, draggable: "false"});
      var h = cfg.heat ? el("img", {class: "sv-img sv-heat", alt: "heat map", src: cfg.heat, draggable: "false"}) : null;
      var regs = el("div", {class: "sv-regions"}, (cfg.regions || []).map(function (r) {
        var box = el("div", {class: "sv-region" + (r.kind && r.kind !== "changed" ? " sv-" + r.kind : ""),
                             title: (r.kind || "changed") + ": " + r.width + "x" + r.height + " px at (" + r.x + ", " + r.y + ")"});
        box.style.left = r.x + "px"; box.style.top = r.y + "px";
        box.style.width = r.width + "px"; box.style.height = r.height + "px";
        return box;
      }));
      var world = el("div", {class: "sv-world"}, [a, b, h, regs]);
      world.style.width = W + "px"; world.style.height = H + "px";
      [a, b, h].forEach(function (i) { if (i) { i.style.width = W + "px"; i.style.height = H + "px"; } });
      // a side that is the larger of a crop pair shows only the window both were judged on
      [[a, cfg.a.box], [b, cfg.b.box]].forEach(function (ib) {
        var i = ib[0], box = ib[1];
        if (!box) return;
        i.style.left = -box.x + "px"; i.style.top = -box.y + "px";
        i.style.width = box.full_width + "px"; i.style.height = box.full_height + "px";
        world.style.overflow = "hidden";
      });
      var label = el("span", {class: "sv-label"});
      var split = idx === 0 ? el("div", {class: "sv-split"}) : null;
      var p = el("div", {class: "sv-pane", "data-pane": String(idx)}, [world, label, split]);
      return {el: p, world: world, a: a, b: b, heat: h, regs: regs, label: label, split: split};
    }
    var panes = [pane(0), pane(1)];
    var stage = el("div", {class: "sv-stage"}, [panes[0].el, panes[1].el]);
    root.appendChild(toolbar);
    root.appendChild(stage);

    function paneSize() { var r = panes[0].el.getBoundingClientRect(); return {w: r.width || 1, h: r.height || 1}; }
    function fit() {
      var p = paneSize(), s = Math.min(p.w / W, p.h / H);
      st.s = s; st.tx = (p.w - W * s) / 2; st.ty = (p.h - H * s) / 2; st.fitted = true; render();
    }
    function zoomAt(factor, cx, cy) {
      var s2 = Math.max(0.02, Math.min(64, st.s * factor));
      st.tx = cx - (cx - st.tx) * s2 / st.s; st.ty = cy - (cy - st.ty) * s2 / st.s; st.s = s2; st.fitted = false;
      render();
    }

    function render() {
      var m = st.mode, single = m !== "side";
      root.setAttribute("data-mode", m);
      modeButtons.forEach(function (b) { b.classList.toggle("active", b.getAttribute("data-mode") === m); });
      panes[1].el.style.display = single ? "none" : "";
      var t = "translate(" + st.tx + "px," + st.ty + "px) scale(" + st.s + ")";
      panes.forEach(function (p, i) {
        p.world.style.transform = t;
        p.regs.style.display = st.regions ? "" : "none";
        p.regs.style.setProperty("--sv-line", (2 / st.s) + "px");
        var showA = true, showB = false, heatOp = 0, bOp = 1, clip = "none", label = "";
        if (m === "side") { showA = i === 0; showB = i === 1; label = i === 0 ? "A " + cfg.a.name : "B " + cfg.b.name; }
        else if (m === "swipe") {
          showB = true;
          var p0 = paneSize(), x = p0.w * st.amounts.swipe / 100, wx = (x - st.tx) / st.s;
          clip = "inset(0 0 0 " + Math.max(0, Math.min(W, wx)) + "px)";
          label = "A | B";
        } else if (m === "blink") { showA = st.shown === "a"; showB = !showA; label = showA ? "A " + cfg.a.name : "B " + cfg.b.name; }
        else if (m === "onion") { showB = true; bOp = st.amounts.onion / 100; label = "A + " + Math.round(st.amounts.onion) + " % B"; }
        else if (m === "heat") { heatOp = st.amounts.heat / 100; label = "A + heat map (1 - SSIM)"; }
        p.a.style.visibility = showA ? "visible" : "hidden";
        p.b.style.visibility = showB ? "visible" : "hidden";
        p.b.style.opacity = String(bOp);
        p.b.style.clipPath = clip;
        if (p.heat) { p.heat.style.visibility = heatOp > 0 ? "visible" : "hidden"; p.heat.style.opacity = String(heatOp); }
        p.label.textContent = label;
      });
      var sp = panes[0].split;
      sp.style.display = m === "swipe" ? "" : "none";
      sp.style.left = st.amounts.swipe + "%";
      var useAmount = m === "swipe" || m === "onion" || m === "heat";
      amount.disabled = !useAmount;
      amountLabel.textContent = m === "swipe" ? "split " : m === "onion" ? "B opacity " : m === "heat" ? "heat opacity " : "";
      zoomLabel.textContent = Math.round(st.s * 100) + " %";
      shownLabel.textContent = m === "blink" ? (st.shown === "a" ? "showing A" : "showing B") + (st.blinking ? " (blinking)" : "") : "";
      root.setAttribute("data-shown", st.shown);
    }

    function setMode(m) {
      st.mode = m;
      if (m === "heat" && !cfg.heat) st.mode = "onion";
      if (st.amounts[st.mode] !== undefined) amount.value = String(Math.round(st.amounts[st.mode]));
      panes[1].el.style.display = st.mode === "side" ? "" : "none";
      if (timer) { clearInterval(timer); timer = null; }
      if (st.mode === "blink" && st.blinking) {
        timer = setInterval(function () { st.shown = st.shown === "a" ? "b" : "a"; render(); }, 600);
      }
      if (st.fitted) fit(); else render();
    }
    function flip(which) { st.blinking = false; st.shown = which; setMode("blink"); }

    modeButtons.forEach(function (b) {
      b.addEventListener("click", function () {
        if (b.getAttribute("data-mode") === "blink") st.blinking = true;
        setMode(b.getAttribute("data-mode"));
      });
    });
    amount.addEventListener("input", function () {
      if (st.amounts[st.mode] !== undefined) { st.amounts[st.mode] = Number(amount.value); render(); }
    });
    regionsBox.addEventListener("change", function () { st.regions = regionsBox.checked; render(); });
    fitBtn.addEventListener("click", fit);
    oneBtn.addEventListener("click", function () { var p = paneSize(); zoomAt(1 / st.s, p.w / 2, p.h / 2); });

    panes.forEach(function (p) {
      p.el.addEventListener("wheel", function (ev) {
        ev.preventDefault();
        var r = p.el.getBoundingClientRect();
        zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
      }, {passive: false});
      var drag = null;
      p.el.addEventListener("pointerdown", function (ev) {
        var r = p.el.getBoundingClientRect();
        if (st.mode === "swipe" && Math.abs(ev.clientX - r.left - r.width * st.amounts.swipe / 100) < 8) {
          drag = {split: true, left: r.left, width: r.width};
        } else {
          drag = {x: ev.clientX, y: ev.clientY, tx: st.tx, ty: st.ty};
        }
        if (p.el.setPointerCapture) p.el.setPointerCapture(ev.pointerId);
        root.focus({preventScroll: true});
      });
      p.el.addEventListener("pointermove", function (ev) {
        if (!drag) return;
        if (drag.split) {
          st.amounts.swipe = Math.max(0, Math.min(100, (ev.clientX - drag.left) / drag.width * 100));
          amount.value = String(Math.round(st.amounts.swipe));
        } else { st.tx = drag.tx + ev.clientX - drag.x; st.ty = drag.ty + ev.clientY - drag.y; st.fitted = false; }
        render();
      });
      ["pointerup", "pointercancel"].forEach(function (n) { p.el.addEventListener(n, function () { drag = null; }); });
    });

    function onKey(ev) {
      if (ev.target && /^(INPUT|TEXTAREA|SELECT)$/.test(ev.target.tagName) && ev.key !== "1" && ev.key !== "2") return;
      var p = paneSize(), k = ev.key, used = true;
      if (k === "1") flip("a"); else if (k === "2") flip("b");
      else if (k === "b") { st.blinking = true; setMode("blink"); }
      else if (k === "s") setMode("side"); else if (k === "w") setMode("swipe");
      else if (k === "o") setMode("onion"); else if (k === "h") setMode("heat");
      else if (k === "r") { st.regions = !st.regions; regionsBox.checked = st.regions; render(); }
      else if (k === "+" || k === "=") zoomAt(1.25, p.w / 2, p.h / 2);
      else if (k === "-") zoomAt(0.8, p.w / 2, p.h / 2);
      else if (k === "0") fit();
      else if (k === "ArrowLeft") { st.tx += 40; render(); } else if (k === "ArrowRight") { st.tx -= 40; render(); }
      else if (k === "ArrowUp") { st.ty += 40; render(); } else if (k === "ArrowDown") { st.ty -= 40; render(); }
      else used = false;
      if (used) ev.preventDefault();
    }
    root.addEventListener("keydown", onKey);
    var hover = false;
    root.addEventListener("pointerenter", function () { hover = true; });
    root.addEventListener("pointerleave", function () { hover = false; });
    function docKey(ev) { if (hover && document.activeElement !== root && !root.contains(document.activeElement)) onKey(ev); }
    document.addEventListener("keydown", docKey);
    function onResize() { if (st.fitted) fit(); else render(); }
    window.addEventListener("resize", onResize);

    setMode("side");
    fit();
    return {
      state: st, setMode: setMode, flip: flip, fit: fit, zoomAt: zoomAt, render: render,
      destroy: function () {
        if (timer) clearInterval(timer);
        document.removeEventListener("keydown", docKey);
        window.removeEventListener("resize", onResize);
        root.innerHTML = "";
      }
    };
  }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(digits === undefined ? 4 : digits);
    return String(v);
  }

  function summary(root, c) {
    root.innerHTML = "";
    root.classList.add("sv-summary");
    var same = c.verdict !== "different";
    root.appendChild(el("div", {class: "sv-verdict " + (same ? "same" : "different"), "data-verdict": c.verdict,
                                text: c.verdict}));
    root.appendChild(el("p", {class: "sv-reason", text: c.reason}));
    var ex = c.exposure_change;
    var rows = [
      ["A", c.a.path + "  (" + c.a.width + "x" + c.a.height + " " + c.a.format + ")"],
      ["B", c.b.path + "  (" + c.b.width + "x" + c.b.height + " " + c.b.format + ")"],
      ["file equal / pixels equal", (c.file_equal ? "yes" : "no") + " / " + (c.pixels_equal ? "yes" : "no")],
      ["SSIM (raw)", c.ssim === null ? "n/a (too small)" : fmt(c.ssim)],
      ["SSIM aligned", fmt(c.ssim_aligned)], ["correlation aligned", fmt(c.correlation_aligned)],
      ["PSNR", c.psnr === null ? "∞" : fmt(c.psnr, 2) + " dB"],
      ["dHash distance", fmt(c.dhash_distance)], ["max |diff|", fmt(c.max_abs_diff)],
      ["pixels differing", fmt(100 * c.diff_fraction, 2) + " %"],
      ["shift", c.shift ? "(" + fmt(c.shift.dx, 2) + ", " + fmt(c.shift.dy, 2) + ") px" : "–"],
      ["exposure change", ex ? fmt(ex.percent, 2) + " %" + (ex.basis === "level" ? " (mean level)" : "") : "–"],
      ["noise σ", c.noise_sigma === null || c.noise_sigma === undefined ? "–" : fmt(c.noise_sigma, 2) + " DN" + (c.noise_source ? " (" + c.noise_source + ")" : "")],
      ["changed regions", String((c.regions || []).length) + (c.changed_fraction ? ", " + fmt(100 * c.changed_fraction, 2) + " % of the frame" : "")]
    ];
    var table = el("table", {class: "sv-numbers"}, rows.map(function (r) {
      return el("tr", {}, [el("th", {text: r[0]}), el("td", {text: r[1]})]);
    }));
    root.appendChild(table);
    var extra = (c.notes || []).map(function (n) { return "note: " + n; }).concat(
      (c.metadata_differences || []).map(function (d) { return "metadata " + d.key + ": " + JSON.stringify(d.a) + " vs " + JSON.stringify(d.b); }));
    if (extra.length) root.appendChild(el("ul", {class: "sv-notes"}, extra.map(function (t) { return el("li", {text: t}); })));
  }

  global.ScopeViewer = {mount: mount, summary: summary};
})(window);
