// Attachments as they look: a picture as a thumbnail that opens a viewer, sound and video in a player, anything
// else as a card with its kind, name and size. Files need the session (GetFile), so each is fetched once as a
// blob and shown from its object URL (the page's policy allows blob: images and media).
import {session, download} from "./api.js";
import {el, clear, attempt, dialog} from "./ui.js";

const blobs = new Map();   // GetFile URL -> Promise of an object URL

function blobUrl(url) {
  if (!blobs.has(url)) {
    blobs.set(url, fetch(url, {headers: {"Authorization": "Bearer " + session.token}}).then(async (response) => {
      if (!response.ok) throw new Error("The file could not be loaded.");
      return URL.createObjectURL(await response.blob());
    }).catch((error) => { blobs.delete(url); throw error; }));
  }
  return blobs.get(url);
}

export function size(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const kind = (type) => (/^image\//.test(type) ? "image" : /^audio\//.test(type) ? "audio"
  : /^video\//.test(type) ? "video" : /^application\/pdf/.test(type) ? "PDF" : "File");

export function attachment(file) {
  const name = file.FileName;
  const downloadButton = el("button", {type: "button", class: "file", onclick: () =>
    attempt(() => download(file.URL, name))}, `Download ${name} (${size(file.Size)})`);
  const what = kind(file.FileType || "");
  if (what === "image") {
    const img = el("img", {alt: name, class: "thumb-img"});
    const thumb = el("button", {type: "button", class: "thumb", "aria-label": `View picture ${name}`,
      onclick: () => viewer(file, img.src)}, img);
    blobUrl(file.URL).then((url) => { img.src = url; }).catch(() => { thumb.replaceWith(el("span", {class: "muted"},
      "The picture could not be loaded.")); });
    return el("div", {class: "attachment"}, thumb, downloadButton);
  }
  if (what === "audio" || what === "video") {
    const player = el(what, {controls: true, preload: "metadata", class: `player ${what}`,
      "aria-label": `${what === "audio" ? "Audio" : "Video"} ${name}`});
    blobUrl(file.URL).then((url) => { player.src = url; }).catch(() => {});
    return el("div", {class: "attachment"}, player, downloadButton);
  }
  return el("div", {class: "attachment file-card"}, el("span", {class: "file-kind", "aria-hidden": "true"}, what),
    el("span", {class: "file-name"}, name, el("span", {class: "meta"}, ` · ${size(file.Size)}`)), downloadButton);
}

function viewer(file, src) {
  const image = el("img", {alt: file.FileName, class: "viewer-img"});
  const box = dialog(file.FileName, image, el("div", {class: "actions"},
    el("button", {type: "button", onclick: () => attempt(() => download(file.URL, file.FileName))}, "Download"),
    el("button", {type: "button", onclick: () => box.close()}, "Close")));
  box.classList.add("viewer");
  if (src) image.src = src; else blobUrl(file.URL).then((url) => { image.src = url; }).catch(() => clear(box));
}
