// A page whose work is still in progress (a booked export): its content region is
// refreshed in place every few seconds, for at most ten minutes, until the server says
// the work is over. No page reload: focus and a screen reader's position stay, and the
// region is aria-live, so the progress is read out.
(function () {
  var area = document.getElementById('contenuto-vivo');
  if (!area || area.getAttribute('data-in-corso') !== 'true') return;
  var ogni = 1000 * (parseInt(area.getAttribute('data-ogni'), 10) || 2);
  var fine = Date.now() + 10 * 60 * 1000;
  var timer = setInterval(function () {
    if (Date.now() > fine) { clearInterval(timer); return; }
    fetch(window.location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var nuova = new DOMParser().parseFromString(html, 'text/html').getElementById('contenuto-vivo');
        if (!nuova) return;
        area.innerHTML = nuova.innerHTML;
        if (nuova.getAttribute('data-in-corso') !== 'true') {
          area.setAttribute('data-in-corso', 'false');
          clearInterval(timer);
        }
      })
      .catch(function () {});
  }, ogni);
})();
