// The outcome page while the receipt is awaited: its status region is refreshed in place
// every 3 seconds for at most two minutes, instead of reloading the page (a reload moves
// focus and a screen reader's position; the region is aria-live, so changes are read out).
(function () {
  var area = document.getElementById('esito-area');
  if (!area || area.getAttribute('data-in-corso') !== 'true') return;
  var giri = 0;
  var timer = setInterval(function () {
    giri += 1;
    if (giri > 40) { clearInterval(timer); return; }
    fetch(window.location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var nuova = new DOMParser().parseFromString(html, 'text/html').getElementById('esito-area');
        if (!nuova) return;
        area.innerHTML = nuova.innerHTML;
        if (nuova.getAttribute('data-in-corso') !== 'true') {
          area.setAttribute('data-in-corso', 'false');
          clearInterval(timer);
        }
      })
      .catch(function () {});
  }, 3000);
})();
