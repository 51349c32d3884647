// Autocomplete for the entry forms: fills the <datalist> of an input marked
// data-suggest-kind from /api/v1/terminology/suggest while the person types. The form works
// without this script: the server resolves the typed name and offers "did you mean" choices.
(function () {
  "use strict";
  var DELAY_MS = 120;

  function setup(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var unitList = document.getElementById(input.dataset.unitsList || "");
    var picked = document.querySelector('[data-picked-for="' + input.id + '"]');
    var timer = null;
    var last = "";
    var byValue = {};

    function fillUnits(units) {
      if (!unitList || !units) { return; }
      unitList.replaceChildren();
      units.forEach(function (unit) {
        var option = document.createElement("option");
        option.value = unit;
        unitList.appendChild(option);
      });
    }

    function remember() {
      var found = byValue[input.value];
      if (picked) { picked.value = found ? found.code : ""; }
      if (found) { fillUnits(found.units); }
    }

    function show(items) {
      list.replaceChildren();
      byValue = {};
      items.forEach(function (item) {
        var option = document.createElement("option");
        option.value = item.display;
        var extra = item.matched ? item.matched + " · " : "";
        option.label = extra + item.code;
        option.textContent = option.label;
        list.appendChild(option);
        if (!byValue[item.display]) { byValue[item.display] = item; }
      });
      remember();
    }

    function ask() {
      var query = input.value.trim();
      if (query === last) { remember(); return; }
      last = query;
      if (!query) { show([]); return; }
      var url = input.dataset.suggestUrl + "?kind=" + encodeURIComponent(input.dataset.suggestKind) +
        "&lang=" + encodeURIComponent(input.dataset.suggestLang || "en") +
        "&limit=10&q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (items) { if (input.value.trim() === query) { show(items); } })
        .catch(function () { /* no suggestions: the server still resolves the name */ });
    }

    input.addEventListener("input", function () {
      remember();
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
    input.addEventListener("change", remember);
  }

  document.querySelectorAll("input[data-suggest-kind]").forEach(setup);
})();
