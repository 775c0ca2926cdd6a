/**
 * Entry point of the home page: room and display name, camera/microphone preview with
 * device selection, and the join button that leads to /room/<name>.
 */

import { acquireMedia, describeMediaProblems, listDevices } from "../client/localMedia";
import {
  isValidRoomName,
  loadPreferences,
  MAX_DISPLAY_NAME_LENGTH,
  normaliseDisplayName,
  recordJoinIntent,
  roomPath,
  savePreferences,
} from "../client/preferences";
import { AudioLevelMonitor } from "../ui/audioLevels";
import { byId, h, setAttribute, setText, showMessage } from "../ui/dom";

const form = byId<HTMLFormElement>("join-form");
const roomInput = byId<HTMLInputElement>("room-name");
const roomError = byId("room-name-error");
const nameInput = byId<HTMLInputElement>("display-name");
const nameError = byId("display-name-error");
const cameraSelect = byId<HTMLSelectElement>("camera-select");
const micSelect = byId<HTMLSelectElement>("mic-select");
const cameraToggle = byId<HTMLButtonElement>("preview-camera-toggle");
const micToggle = byId<HTMLButtonElement>("preview-mic-toggle");
const previewVideo = byId<HTMLVideoElement>("preview");
const previewBox = byId("preview-box");
const notice = byId("preview-notice");
const micLevel = byId("mic-level");

let preview: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null } = { audio: null, video: null };
let previewGeneration = 0;
const levels = new AudioLevelMonitor(() => renderPreviewState());

function randomRoomName(): string {
  const letters = "abcdefghijkmnpqrstuvwxyz23456789";
  let suffix = "";
  for (let i = 0; i < 6; i += 1) suffix += letters[Math.floor(Math.random() * letters.length)];
  return `room-${suffix}`;
}

function stopPreview(): void {
  preview.audio?.stop();
  preview.video?.stop();
  preview = { audio: null, video: null };
  previewVideo.srcObject = null;
  levels.watch("preview", null);
}

function renderPreviewState(): void {
  const prefs = loadPreferences(localStorage);
  const cameraOn = prefs.videoEnabled && preview.video !== null;
  const micOn = prefs.audioEnabled && preview.audio !== null;
  previewBox.classList.toggle("no-video", !cameraOn);
  setText(cameraToggle, prefs.videoEnabled ? "Camera on" : "Camera off");
  setAttribute(cameraToggle, "aria-pressed", prefs.videoEnabled ? "true" : "false");
  setText(micToggle, prefs.audioEnabled ? "Microphone on" : "Microphone off");
  setAttribute(micToggle, "aria-pressed", prefs.audioEnabled ? "true" : "false");
  if (preview.video) preview.video.enabled = prefs.videoEnabled;
  if (preview.audio) preview.audio.enabled = prefs.audioEnabled;
  const speaking = micOn && levels.isSpeaking("preview");
  micLevel.classList.toggle("speaking", speaking);
  setText(micLevel, !preview.audio ? "No microphone" : micOn ? (speaking ? "Microphone: sound detected" : "Microphone: quiet") : "Microphone muted");
}

function fillSelect(select: HTMLSelectElement, devices: { deviceId: string; label: string }[], chosen: string | null, current: string | null): void {
  const selected = current ?? chosen;
  select.replaceChildren(
    ...devices.map((device) => h("option", { value: device.deviceId, selected: device.deviceId === selected }, device.label)),
  );
  select.disabled = devices.length === 0;
  if (devices.length === 0) select.append(h("option", { value: "" }, "No device found"));
}

async function startPreview(): Promise<void> {
  const generation = ++previewGeneration;
  stopPreview();
  const prefs = loadPreferences(localStorage);
  const media = await acquireMedia({ audioDeviceId: prefs.audioDeviceId, videoDeviceId: prefs.videoDeviceId });
  if (generation !== previewGeneration) {
    media.audio?.stop();
    media.video?.stop();
    return;
  }
  preview = { audio: media.audio, video: media.video };
  previewVideo.srcObject = media.video ? new MediaStream([media.video]) : null;
  levels.watch("preview", media.audio);
  showMessage(notice, describeMediaProblems(media.problems));
  const [cameras, microphones] = await Promise.all([listDevices("videoinput"), listDevices("audioinput")]);
  fillSelect(cameraSelect, cameras, prefs.videoDeviceId, media.video?.getSettings().deviceId ?? null);
  fillSelect(micSelect, microphones, prefs.audioDeviceId, media.audio?.getSettings().deviceId ?? null);
  renderPreviewState();
}

function validate(): { room: string; name: string } | null {
  const room = roomInput.value.trim();
  const name = normaliseDisplayName(nameInput.value);
  const roomOk = isValidRoomName(room);
  showMessage(roomError, roomOk ? null : "Use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit.");
  setAttribute(roomInput, "aria-invalid", roomOk ? null : "true");
  showMessage(nameError, name ? null : `Enter a name of 1 to ${MAX_DISPLAY_NAME_LENGTH} characters.`);
  setAttribute(nameInput, "aria-invalid", name ? null : "true");
  if (!roomOk) roomInput.focus();
  else if (!name) nameInput.focus();
  return roomOk && name ? { room, name } : null;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const valid = validate();
  if (!valid) return;
  savePreferences(localStorage, { displayName: valid.name });
  recordJoinIntent(sessionStorage, valid.room);
  stopPreview();
  levels.close();
  window.location.assign(roomPath(valid.room));
});

cameraToggle.addEventListener("click", () => {
  savePreferences(localStorage, { videoEnabled: !loadPreferences(localStorage).videoEnabled });
  renderPreviewState();
});
micToggle.addEventListener("click", () => {
  levels.resume();
  savePreferences(localStorage, { audioEnabled: !loadPreferences(localStorage).audioEnabled });
  renderPreviewState();
});
cameraSelect.addEventListener("change", () => {
  savePreferences(localStorage, { videoDeviceId: cameraSelect.value || null });
  void startPreview();
});
micSelect.addEventListener("change", () => {
  savePreferences(localStorage, { audioDeviceId: micSelect.value || null });
  void startPreview();
});
document.addEventListener("pointerdown", () => levels.resume(), { once: true });
window.addEventListener("pagehide", () => stopPreview());

const prefs = loadPreferences(localStorage);
roomInput.value = new URLSearchParams(window.location.search).get("room") ?? (roomInput.value || randomRoomName());
nameInput.value = prefs.displayName;
nameInput.maxLength = MAX_DISPLAY_NAME_LENGTH;
(nameInput.value ? roomInput : nameInput).focus();
renderPreviewState();
void startPreview();
