// visitors' optional script: counts a site's page views, single-page-app
// route changes included, and its custom events. No cookie, no storage;
// it sends only what the server stores: the path, the referrer's origin
// with the first view, the page's UTM parameters, a coarse class of the
// window's width, an event's name. Embedded as
//   <script defer src="https://COUNTER/script.js" data-site="example.com"></script>
// (or /script/HASH.js), with data-hash to count hash routes as pages
// (/app/#/about is the page /app/about). The served file is visitors.min.js,
// made from this one by scripts/minify-script.sh.
(function (win, doc) {
  var me = doc.currentScript;
  if (!me) return;
  var site = encodeURIComponent(me.getAttribute("data-site"));
  var withHash = me.hasAttribute("data-hash");
  // The counter's address: where this script came from (/script.js or
  // /script/HASH.js).
  var base = me.src.replace(/\/script(\/\w+)?\.js([?#].*)?$/, "/");
  var loc = win.location;
  var started; // the page has been shown: views count from then on
  var shown; // the path counted last
  // Sent with the first view only, and only its origin (all the server keeps
  // is the host).
  var referrer = doc.referrer.split("/").slice(0, 3).join("/");

  function path() {
    return withHash && loc.hash
      ? loc.pathname.replace(/\/$/, "") + "/" + loc.hash.replace(/^#\/?/, "")
      : loc.pathname;
  }

  // A POST with no body needs no CORS preflight; it reaches the server even
  // when the page is unloading (an outbound link's click).
  function send(query) {
    query = "?p=" + encodeURIComponent(path()) + query;
    if (!(navigator.sendBeacon && navigator.sendBeacon(base + "hit/" + site + query))) {
      if (win.fetch) {
        fetch(base + "hit/" + site + query, { method: "POST", keepalive: true, mode: "no-cors" });
      } else {
        new Image().src = base + "pixel/" + site + ".gif" + query;
      }
    }
  }

  // A page view, unless the path is the one counted last (a replaceState
  // that keeps it); `again` counts it all the same (a page restored from
  // the back-forward cache).
  function view(again) {
    if (!started || (!again && path() === shown)) return;
    shown = path();
    var query = "";
    if (referrer !== undefined) {
      query = "&r=" + encodeURIComponent(referrer);
      referrer = undefined;
    }
    var search = new URLSearchParams(loc.search);
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "ref", "source"].forEach(
      function (name) {
        if (search.get(name)) query += "&" + name + "=" + encodeURIComponent(search.get(name));
      }
    );
    var width = win.innerWidth;
    send(
      query +
        "&w=" +
        (width < 576 ? "mobile" : width < 992 ? "tablet" : width < 1440 ? "laptop" : "desktop")
    );
  }

  function track(name) {
    send("&e=" + encodeURIComponent(name));
  }

  // Single-page apps: every history change to another path is a view.
  ["pushState", "replaceState"].forEach(function (method) {
    var original = history[method];
    history[method] = function () {
      var result = original.apply(this, arguments);
      view();
      return result;
    };
  });
  win.addEventListener("popstate", function () {
    view();
  });
  if (withHash) {
    win.addEventListener("hashchange", function () {
      view();
    });
  }
  win.addEventListener("pageshow", function (event) {
    if (event.persisted) view(1);
  });

  // <a data-visitors-event="Signup">, <button data-visitors-event="…">.
  doc.addEventListener(
    "click",
    function (event) {
      var target = event.target.closest && event.target.closest("[data-visitors-event]");
      if (target) track(target.getAttribute("data-visitors-event"));
    },
    true
  );
  win.visitors = { track: track };

  // A prerendered page, or one opened in a background tab, is counted when
  // it is first shown.
  function whenShown() {
    if (doc.prerendering || doc.visibilityState === "hidden") {
      doc.addEventListener("visibilitychange", whenShown, { once: true });
      doc.addEventListener("prerenderingchange", whenShown, { once: true });
    } else if (!started) {
      started = 1;
      view();
    }
  }
  whenShown();
})(window, document);
