// "Share my mood": a small card image drawn in the browser from words alone (the reading and the
// top playlist). The photo is never drawn: the card is made from text and gradients only, so
// nothing of the selfie can leave the device through it.

import { coverColours } from "./result.js";

export const CARD_SIZE = 600;

function wrap(context, text, maxWidth) {
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (line && context.measureText(next).width > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

// Draws the card and resolves to a PNG blob.
export function drawShareCard({ reading, band, playlist }) {
  const size = CARD_SIZE;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const c = canvas.getContext("2d");
  const background = c.createLinearGradient(0, 0, size, size);
  background.addColorStop(0, "#2e1065");
  background.addColorStop(1, "#134e4a");
  c.fillStyle = background;
  c.fillRect(0, 0, size, size);
  const pad = 48;
  c.fillStyle = "#ffffff";
  c.textBaseline = "top";
  c.font = "700 30px system-ui, sans-serif";
  c.fillText("♪ EmoTune", pad, pad);
  c.font = "400 24px system-ui, sans-serif";
  c.fillStyle = "#e9e5ff";
  c.fillText("My mood right now", pad, pad + 70);
  c.fillStyle = "#ffffff";
  c.font = "700 48px system-ui, sans-serif";
  let y = pad + 108;
  for (const line of wrap(c, reading, size - 2 * pad).slice(0, 3)) {
    c.fillText(line, pad, y);
    y += 58;
  }
  if (band) {
    c.font = "400 22px system-ui, sans-serif";
    c.fillStyle = "#e9e5ff";
    c.fillText(`The model is ${band}`, pad, y + 4);
  }
  if (playlist) {
    const top = size - pad - 120;
    c.fillStyle = "rgba(255, 255, 255, 0.12)";
    c.fillRect(pad, top, size - 2 * pad, 120);
    const [a, b] = coverColours(playlist);
    const cover = c.createLinearGradient(pad + 16, top + 16, pad + 104, top + 104);
    cover.addColorStop(0, a);
    cover.addColorStop(1, b);
    c.fillStyle = cover;
    c.fillRect(pad + 16, top + 16, 88, 88);
    c.fillStyle = "#ffffff";
    c.font = "700 40px system-ui, sans-serif";
    c.textAlign = "center";
    c.fillText((playlist.name || "♪").charAt(0).toUpperCase(), pad + 60, top + 40);
    c.textAlign = "left";
    c.font = "400 20px system-ui, sans-serif";
    c.fillStyle = "#e9e5ff";
    c.fillText("Listening to", pad + 124, top + 22);
    c.font = "700 28px system-ui, sans-serif";
    c.fillStyle = "#ffffff";
    const name = wrap(c, playlist.name || "", size - 2 * pad - 140)[0] || "";
    c.fillText(name, pad + 124, top + 52);
  }
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The card could not be drawn."))), "image/png");
  });
}

// Shares through the Web Share API where it can take files, or downloads the image otherwise.
// Resolves to "shared", "downloaded" or "cancelled".
export async function shareCard(blob, text) {
  const file = new File([blob], "emotune-mood.png", { type: "image/png" });
  if (navigator.canShare && navigator.share && navigator.canShare({ files: [file] })) {
    try {
      await navigator.share({ files: [file], title: "My EmoTune mood", text });
      return "shared";
    } catch (error) {
      if (error && error.name === "AbortError") return "cancelled";
      // Sharing refused (no gesture, no target): fall back to the download.
    }
  }
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = file.name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return "downloaded";
}
