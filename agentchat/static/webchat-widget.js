// The web chat launcher for a company's own site, with one tag (docs/webchat.md):
//   <script src="https://chat.example.com/webchat/widget.js" data-colour="#0b5cad" data-label="Chat with us" defer></script>
// A round button in the corner opens /chat of the same server in a panel (an iframe; the site's origin must be in
// AGENTCHAT_WEBCHAT_FRAME_ANCESTORS). Plain DOM, no dependencies; nothing of the host page is read.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__agentchatWidget) return;
  window.__agentchatWidget = true;
  var origin = new URL(script.src).origin;
  var colour = /^#[0-9a-fA-F]{6}$/.test(script.dataset.colour || "") ? script.dataset.colour : "#0b5cad";
  var label = (script.dataset.label || "Chat with us").slice(0, 60);

  var button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "agentchat-panel");
  button.setAttribute("aria-label", label);
  button.textContent = "\u{1F4AC}";
  button.style.cssText = "position:fixed;right:20px;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;" +
    "background:" + colour + ";color:#fff;font-size:28px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3);" +
    "z-index:2147483000";

  var panel = document.createElement("div");
  panel.id = "agentchat-panel";
  panel.hidden = true;
  panel.style.cssText = "position:fixed;right:20px;bottom:92px;width:min(380px,calc(100vw - 40px));" +
    "height:min(600px,calc(100vh - 120px));border-radius:12px;overflow:hidden;background:#fff;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.3);z-index:2147483000";

  var frame = null;
  button.addEventListener("click", function () {
    var open = panel.hidden;
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/chat";
      frame.title = label;
      frame.style.cssText = "width:100%;height:100%;border:0";
      frame.setAttribute("allow", "clipboard-read; clipboard-write");
      panel.append(frame);
    }
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "\u00D7" : "\u{1F4AC}";
  });

  function place() { document.body.append(panel, button); }
  if (document.body) place(); else document.addEventListener("DOMContentLoaded", place);
})();
