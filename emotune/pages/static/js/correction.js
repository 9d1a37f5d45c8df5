// "Not how you feel?": the seven emotions and "Keep yours" as toggles, and the sentence that says
// what the person said beside what the model read.

const $ = (id) => document.getElementById(id);

const lower = (text) => (text || "").toLowerCase();

// "You said sad; we read neutral." or "" when the reading stands.
export function saidSentence(analysis) {
  if (!analysis.said_emotion) return "";
  return `You said ${lower(analysis.said_emotion)}; we read ${lower(analysis.primary_emotion)}.`;
}

// Draws the choices for this analysis; ``onSay(emotion)`` gets an emotion, or null for "Keep yours".
export function renderCorrection(analysis, emotions, onSay) {
  const said = $("said");
  said.textContent = saidSentence(analysis);
  said.hidden = !analysis.said_emotion;
  const read = analysis.primary_emotion;
  const options = $("correct-options");
  options.replaceChildren();
  const choice = (label, value, pressed) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small-button";
    button.textContent = label;
    button.setAttribute("aria-pressed", String(pressed));
    button.addEventListener("click", () => onSay(value));
    options.append(button);
  };
  for (const emotion of emotions) {
    if (emotion === read) continue;
    choice(emotion, emotion, analysis.said_emotion === emotion);
  }
  choice(`Keep yours (${lower(read)})`, null, !analysis.said_emotion);
}
