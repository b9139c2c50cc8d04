// The browser softphone: places a call on the console, sends what the caller does, shows
// (and reads aloud) what the line says, and marks the call's path on the flow map.
"use strict";

(function () {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  let call = null; // the call's last state, from the console
  let keys = "";   // keys typed, not sent yet
  const calls = $("dial-form").dataset.action; // the console's /phone/calls

  async function post(url, body) {
    const answer = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    let state = {};
    try { state = await answer.json(); } catch (_) { state = { problem: "the console did not answer" }; }
    return state;
  }

  function showProblem(text) {
    const problem = $("problem");
    problem.textContent = text || "";
    problem.hidden = !text;
  }

  function speak(line) {
    if (!$("speak").checked || !("speechSynthesis" in window)) return;
    const utterance = new SpeechSynthesisUtterance(line.text);
    utterance.lang = line.language;
    window.speechSynthesis.speak(utterance);
  }

  function describeWaiting(waiting, state) {
    if (state.ended) return "";
    if (!waiting) return "The line is not waiting for anything.";
    if (waiting.kind === "pay") {
      return "The payment entry asks for the " + waiting.field_name + ": use the form below.";
    }
    const parts = [];
    if (waiting.input.includes("dtmf")) {
      let what = "keys";
      if (waiting.num_digits === 1) what = "a key";
      else if (waiting.num_digits) what = "up to " + waiting.num_digits + " keys";
      if (waiting.finish_on_key) what += ", ended with " + waiting.finish_on_key;
      parts.push(what);
    }
    if (waiting.input.includes("speech")) parts.push("speech");
    return "The line waits for " + parts.join(" or ") + " (" + waiting.timeout + " seconds).";
  }

  function markMap(state) {
    const map = $("live-map");
    map.querySelectorAll(".taken, .current").forEach((node) => node.classList.remove("taken", "current"));
    const path = state.path || [];
    path.forEach((endpoint, index) => {
      const step = map.querySelector('g.step[data-endpoint="' + endpoint + '"]');
      if (step) step.classList.add("taken");
      if (index > 0) {
        const edge = map.querySelector('path.edge[data-from="' + path[index - 1] + '"][data-to="' + endpoint + '"]');
        if (edge) edge.classList.add("taken");
      }
    });
    const list = $("path-list");
    list.replaceChildren(...path.map((endpoint) => {
      const item = document.createElement("li");
      item.textContent = endpoint;
      return item;
    }));
    $("current-step").textContent = state.current || (state.ended ? "the call has ended" : "no step");
    if (state.current) {
      const current = map.querySelector('g.step[data-endpoint="' + state.current + '"]');
      if (current) {
        current.classList.add("current");
        // Scroll the map's frame (not the page) to bring the step into the middle.
        const box = current.getBoundingClientRect();
        const frame = map.getBoundingClientRect();
        map.scrollLeft += box.left - frame.left - (frame.width - box.width) / 2;
        map.scrollTop += box.top - frame.top - (frame.height - box.height) / 2;
      }
    }
  }

  function render(state) {
    if (!state.id) { showProblem(state.problem); return; }
    const before = call ? call.lines.length : 0;
    const same = call && call.id === state.id;
    if (!same) $("heard").replaceChildren();
    call = state;
    state.lines.slice(same ? before : 0).forEach((line) => {
      const item = document.createElement("li");
      item.lang = line.language;
      item.textContent = line.text;
      $("heard").appendChild(item);
      speak(line);
    });
    (state.dialed || []).forEach((number) => {
      if (!document.querySelector('[data-dialed="' + number + '"]')) {
        const item = document.createElement("li");
        item.dataset.dialed = number;
        item.className = "dialed";
        item.textContent = "(the call is put through to " + number + ")";
        $("heard").appendChild(item);
      }
    });
    $("heard").scrollTop = $("heard").scrollHeight; // the newest line in view
    showProblem(state.problem);
    const waiting = state.waiting;
    $("waiting").textContent = describeWaiting(waiting, state);
    $("call-status").textContent = state.ended
      ? "The call has ended (" + state.end_reason + ")."
      : "Calling " + state.to + " from " + state.from + ", at " + state.at + ".";
    const paying = !state.ended && waiting && waiting.kind === "pay";
    $("card-form").hidden = !(paying && waiting.card);
    $("bank-form").hidden = !(paying && !waiting.card);
    $("keys-panel").hidden = state.ended;
    $("hangup").disabled = state.ended;
    $("script-link").href = calls + "/" + state.id + "/script";
    markMap(state);
  }

  async function act(action, body) {
    if (!call || call.ended) return;
    render(await post(calls + "/" + call.id + "/" + action, body));
  }

  function typed(key) {
    keys += key;
    $("keys-typed").textContent = keys;
    const waiting = call && call.waiting;
    if (!waiting) return;
    const finish = waiting.kind === "pay" ? "#" : waiting.finish_on_key;
    const full = waiting.kind === "gather" && waiting.num_digits && keys.length >= waiting.num_digits;
    if (key === finish || full) sendKeys();
  }

  function sendKeys() {
    if (!keys) return;
    const sent = keys;
    keys = "";
    $("keys-typed").textContent = "";
    act("keys", { keys: sent });
  }

  function values(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  $("dial-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = values(form);
    const state = await post(calls, body);
    if (!state.id) { showProblem(state.problem); $("call").hidden = false; return; }
    call = null;
    $("dial").hidden = true;
    $("call").hidden = false;
    render(state);
    $("call-title").focus();
  });
  $("call-title").tabIndex = -1;
  document.querySelectorAll("#keypad .key").forEach((button) => {
    button.addEventListener("click", () => typed(button.dataset.key));
  });
  $("send-keys").addEventListener("click", sendKeys);
  $("clear-keys").addEventListener("click", () => { keys = ""; $("keys-typed").textContent = ""; });
  $("silence").addEventListener("click", () => act("silence"));
  $("hangup").addEventListener("click", () => act("hangup"));
  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("say-text").value;
    $("say-text").value = "";
    act("say", { text: text });
  });
  $("card-form").addEventListener("submit", (event) => { event.preventDefault(); act("card", values(event.target)); });
  $("bank-form").addEventListener("submit", (event) => { event.preventDefault(); act("bank", values(event.target)); });
  $("new-call").addEventListener("click", async () => {
    if (call) await post(calls + "/" + call.id + "/forget");
    call = null;
    $("heard").replaceChildren();
    $("call").hidden = true;
    $("dial").hidden = false;
    markMap({ path: [] });
    $("to").focus();
  });
  // The physical keypad: digits, * and # typed anywhere but in a text field.
  document.addEventListener("keydown", (event) => {
    if (!call || call.ended || $("keys-panel").hidden) return;
    const field = event.target.closest("input, select, textarea");
    if (field || event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[0-9*#]$/.test(event.key)) { event.preventDefault(); typed(event.key); }
    else if (event.key === "Enter" && keys && !event.target.closest("button, a")) { event.preventDefault(); sendKeys(); }
  });
})();
