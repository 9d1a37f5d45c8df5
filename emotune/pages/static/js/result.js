// Drawing a finished analysis: face boxes over the in-memory photo, the 7 labelled bars,
// the verdict in words and the playlist cards.

const $ = (id) => document.getElementById(id);

export function emotionOrder() {
  return JSON.parse($("bars").dataset.emotions);
}

export function percent(p) {
  const value = p * 100;
  if (value > 0 && value < 1) return "<1%";
  return `${Math.round(value)}%`;
}

// The words come from the API: bands whose accuracy was measured on validation faces.
export function confidenceLabel(face) {
  return face.band ? face.band.label : face.confidence_label;
}

// "(64%; right 85% of the time at this confidence in our tests)", or the top two when unsure.
function confidenceDetail(face, pct) {
  if (!face.band) return ` (${pct}%).`;
  const measured = `right ${Math.round(face.band.accuracy * 100)}% of the time at this confidence in our tests`;
  if (face.band.key === "unsure") return ` (${pct}%): it could be ${face.reading} (${measured}).`;
  return ` (${pct}%; ${measured}).`;
}

export function renderPhoto(analysis, photoUrl, selectedIndex, onSelect) {
  const photo = $("result-photo");
  const boxes = $("face-boxes");
  boxes.replaceChildren();
  $("photo-frame").hidden = !photoUrl;
  $("photo-missing").hidden = Boolean(photoUrl);
  if (!photoUrl) return;
  if (photo.src !== photoUrl) photo.src = photoUrl;
  const faces = analysis.faces || [];
  const { width, height } = analysis.image || {};
  $("photo-caption").textContent = faces.length > 1
    ? `${faces.length} faces found. Select a face to see its emotions.`
    : faces.length === 1 ? "The box shows the face that was analysed." : "No face was found in this photo.";
  if (!width || !height) return;
  faces.forEach((face, index) => {
    const box = document.createElement("button");
    box.type = "button";
    box.className = "face-box";
    // Percentages keep the boxes on the face at any displayed size.
    box.style.left = `${(face.box.x / width) * 100}%`;
    box.style.top = `${(face.box.y / height) * 100}%`;
    box.style.width = `${(face.box.width / width) * 100}%`;
    box.style.height = `${(face.box.height / height) * 100}%`;
    box.setAttribute("aria-pressed", String(index === selectedIndex));
    box.setAttribute("aria-label", `Face ${index + 1}: ${face.emotion}, ${confidenceLabel(face)}. Show its emotions.`);
    const tag = document.createElement("span");
    tag.className = "face-tag";
    tag.setAttribute("aria-hidden", "true");
    tag.textContent = faces.length > 1 ? `${index + 1}. ${face.emotion}` : face.emotion;
    box.append(tag);
    box.addEventListener("click", () => onSelect(index));
    boxes.append(box);
  });
}

export function renderFace(analysis, index) {
  const face = analysis.faces[index];
  const many = analysis.faces.length > 1;
  const verdict = $("verdict");
  const pct = Math.round(face.confidence * 100);
  verdict.replaceChildren();
  const who = many ? `Face ${index + 1}${face.primary ? " (the largest)" : ""} looks ` : "You look ";
  const strong = document.createElement("strong");
  strong.textContent = face.emotion;
  verdict.append(who, strong, `. The model is ${confidenceLabel(face)}${confidenceDetail(face, pct)}`);

  const bars = $("bars");
  bars.replaceChildren();
  for (const emotion of emotionOrder()) {
    const p = face.probabilities[emotion] ?? 0;
    const row = document.createElement("li");
    row.className = emotion === face.emotion ? "bar-row top" : "bar-row";
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = emotion;
    const track = document.createElement("span");
    track.className = "bar-track";
    track.setAttribute("aria-hidden", "true");
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.display = "block";
    fill.style.width = `${(p * 100).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = percent(p);
    row.append(label, " ", track, " ", value);
    bars.append(row);
  }
}

export function renderModelInfo(analysis) {
  const parts = [];
  if (analysis.model && analysis.model.name) parts.push(`Model ${analysis.model.name}`);
  if (analysis.timings_ms && analysis.timings_ms.total != null) parts.push(`analysed in ${Math.round(analysis.timings_ms.total)} ms`);
  $("model-info").textContent = parts.join(", ");
}

export function renderNoFace(analysis) {
  const notice = analysis.notice || {};
  $("no-face-message").textContent = notice.message
    || "No face could be found in this photo. Try another one.";
  const tips = notice.tips && notice.tips.length ? notice.tips : [
    "Face a window or a lamp so your face is evenly lit.",
    "Hold the camera about an arm's length away, face straight on.",
    "Make sure one face fills a good part of the picture.",
  ];
  const list = $("no-face-tips");
  list.replaceChildren(...tips.map((tip) => {
    const item = document.createElement("li");
    item.textContent = tip;
    return item;
  }));
}

// A facade: Spotify's player (and its cookies and scripts) loads only when the person asks for
// it, which keeps the result fast and private; if it cannot load, the card still reads well.
export function loadPlayer(card, playlist) {
  const frame = document.createElement("iframe");
  frame.className = "card-embed";
  frame.title = `Spotify player: ${playlist.name}`;
  frame.src = playlist.embed_url || `https://open.spotify.com/embed/playlist/${encodeURIComponent(playlist.spotify_id)}`;
  frame.loading = "lazy";
  frame.width = "100%";
  frame.height = "152";
  frame.allow = "autoplay; clipboard-write; encrypted-media; fullscreen; picture-in-picture";
  frame.referrerPolicy = "strict-origin-when-cross-origin";
  const embed = card.querySelector(".embed");
  embed.replaceChildren(frame);
  embed.classList.add("loaded");
  const note = document.createElement("p");
  note.className = "embed-note muted small";
  note.textContent = "Player not loading? Use “Open in Spotify”.";
  embed.after(note);
  frame.focus();
}

export function renderPlaylists(playlists, onVote) {
  const list = $("playlists");
  const template = $("playlist-card");
  list.replaceChildren();
  if (!playlists.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "No playlists are available right now. Try another strategy, or come back later.";
    list.append(empty);
    return;
  }
  for (const playlist of playlists) {
    const card = template.content.firstElementChild.cloneNode(true);
    card.dataset.playlistId = playlist.spotify_id;
    const image = card.querySelector(".card-image");
    if (playlist.image_url) {
      image.src = playlist.image_url;
    } else {
      // No cover known yet (the catalogue has not been refreshed from Spotify): a drawn stand-in.
      const cover = document.createElement("span");
      cover.className = "card-image card-cover";
      cover.setAttribute("aria-hidden", "true");
      cover.textContent = "♪";
      image.replaceWith(cover);
    }
    card.querySelector(".card-name").textContent = playlist.name;
    const owner = card.querySelector(".card-owner");
    const bits = [];
    if (playlist.owner) bits.push(`by ${playlist.owner}`);
    if (playlist.track_count) bits.push(`${playlist.track_count} tracks`);
    owner.textContent = bits.join(" · ");
    card.querySelector(".card-reason").textContent = playlist.reason || "";
    const play = card.querySelector(".embed-play");
    play.setAttribute("aria-label", `Play here: ${playlist.name} (loads Spotify's player)`);
    play.addEventListener("click", () => loadPlayer(card, playlist));
    const link = card.querySelector(".card-link");
    link.href = playlist.url || `https://open.spotify.com/playlist/${encodeURIComponent(playlist.spotify_id)}`;
    link.setAttribute("aria-label", `Open in Spotify: ${playlist.name} (opens a new tab)`);
    for (const button of card.querySelectorAll(".vote")) {
      const verb = button.dataset.vote === "up" ? "I like" : "Not for me:";
      button.setAttribute("aria-label", `${verb} ${playlist.name}`);
      button.addEventListener("click", () => onVote(playlist, button.dataset.vote, card));
    }
    list.append(card);
  }
}
