/** The control bar: microphone, camera, screen share and leave buttons. */

import type { LocalSummary } from "../client/tiles";
import { byId, setAttribute, setText } from "./dom";

export interface ControlActions {
  toggleMicrophone(): void;
  toggleCamera(): void;
  toggleScreenShare(): void;
  leave(): void;
}

export class Controls {
  private readonly microphone = byId<HTMLButtonElement>("btn-mic");
  private readonly camera = byId<HTMLButtonElement>("btn-camera");
  private readonly screen = byId<HTMLButtonElement>("btn-screen");
  private readonly leave = byId<HTMLButtonElement>("btn-leave");

  constructor(actions: ControlActions) {
    this.microphone.addEventListener("click", () => actions.toggleMicrophone());
    this.camera.addEventListener("click", () => actions.toggleCamera());
    this.screen.addEventListener("click", () => actions.toggleScreenShare());
    this.leave.addEventListener("click", () => actions.leave());
    if (typeof navigator.mediaDevices?.getDisplayMedia !== "function") {
      this.screen.disabled = true;
      this.screen.title = "This browser cannot share the screen";
    }
  }

  render(local: LocalSummary, busy: { microphone: boolean; camera: boolean; screen: boolean }): void {
    // The visible text is the accessible name and says what a press does; no aria-pressed,
    // which would contradict a changing name.
    this.renderToggle(
      this.microphone,
      local.hasMicrophone && local.microphoneActive,
      ["Mute microphone", local.hasMicrophone ? "Unmute microphone" : "Turn on microphone"],
      busy.microphone,
    );
    this.renderToggle(this.camera, local.hasCamera && local.cameraActive, ["Turn camera off", "Turn camera on"], busy.camera);
    this.renderToggle(this.screen, local.sharingScreen, ["Stop sharing", "Share screen"], busy.screen);
  }

  private renderToggle(button: HTMLButtonElement, on: boolean, [whenOn, whenOff]: [string, string], busy: boolean): void {
    const text = on ? whenOn : whenOff;
    setText(button.querySelector(".control-text") ?? button, text);
    setAttribute(button, "title", text);
    setAttribute(button, "data-on", on ? "true" : "false");
    button.classList.toggle("off", !on);
    setAttribute(button, "aria-busy", busy ? "true" : null);
  }
}
