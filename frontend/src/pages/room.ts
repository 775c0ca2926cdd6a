/** Entry point of the room page: asks for a display name when needed, then joins. */

import {
  loadPreferences,
  MAX_DISPLAY_NAME_LENGTH,
  normaliseDisplayName,
  savePreferences,
  takeJoinIntent,
} from "../client/preferences";
import { findJoinToken, withoutToken } from "../client/joinToken";
import { Controls } from "../ui/controls";
import { byId, showMessage } from "../ui/dom";
import { PinPrompt } from "../ui/pinPrompt";
import { RoomVisit } from "./roomController";

const app = byId("app");
const roomName = app.dataset.roomName ?? "";
const prejoin = byId("prejoin");
const prejoinForm = byId<HTMLFormElement>("prejoin-form");
const nameInput = byId<HTMLInputElement>("display-name");
const nameError = byId("display-name-error");
const roomSection = byId("room");
const ended = byId("ended");
const endedMessage = byId("ended-message");
const rejoinButton = byId<HTMLButtonElement>("btn-rejoin");

// Read once, then taken out of the address bar (and out of reloads and bookmarks).
const joinToken = findJoinToken({
  search: location.search,
  hash: location.hash,
  dataset: app.dataset,
  global: (window as unknown as { videoroomToken?: unknown }).videoroomToken,
});
const strippedUrl = withoutToken(location.href);
if (strippedUrl !== null) history.replaceState(history.state, "", strippedUrl);

interface Debug {
  visit: RoomVisit | null;
}
const debug: Debug = { visit: null };
(window as unknown as { videoroom: Debug }).videoroom = debug;

const controls = new Controls({
  toggleMicrophone: () => debug.visit?.toggleMicrophone(),
  toggleCamera: () => debug.visit?.toggleCamera(),
  toggleScreenShare: () => debug.visit?.toggleScreenShare(),
  leave: () => debug.visit?.leave(),
});

const pinPrompt = new PinPrompt();

function startVisit(displayName: string): void {
  prejoin.hidden = true;
  ended.hidden = true;
  roomSection.hidden = false;
  const visit = new RoomVisit({
    roomName,
    displayName,
    token: joinToken,
    preferences: loadPreferences(localStorage),
    controls,
    pinPrompt,
    onEnded: (message, canRejoin) => {
      roomSection.hidden = true;
      ended.hidden = false;
      showMessage(endedMessage, message);
      rejoinButton.hidden = !canRejoin;
      rejoinButton.focus();
    },
  });
  debug.visit = visit;
  void visit.start();
}

function askForName(): void {
  prejoin.hidden = false;
  roomSection.hidden = true;
  nameInput.maxLength = MAX_DISPLAY_NAME_LENGTH;
  nameInput.value = loadPreferences(localStorage).displayName;
  nameInput.focus();
  prejoinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = normaliseDisplayName(nameInput.value);
    if (!name) {
      showMessage(nameError, `Enter a name of 1 to ${MAX_DISPLAY_NAME_LENGTH} characters.`);
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.focus();
      return;
    }
    nameInput.removeAttribute("aria-invalid");
    showMessage(nameError, null);
    savePreferences(localStorage, { displayName: name });
    startVisit(name);
  });
}

// A closed tab or a navigation away leaves at once (phx_leave): without it the room would
// keep the peer for its resume grace period, as for a broken connection.
window.addEventListener("pagehide", () => debug.visit?.leave());

rejoinButton.addEventListener("click", () => {
  const name = normaliseDisplayName(loadPreferences(localStorage).displayName);
  if (name) startVisit(name);
  else askForName();
});

const remembered = normaliseDisplayName(loadPreferences(localStorage).displayName);
if (takeJoinIntent(sessionStorage, roomName) && remembered) startVisit(remembered);
else askForName();
