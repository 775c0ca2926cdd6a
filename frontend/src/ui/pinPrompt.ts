/** The PIN form of a room whose join was refused with `pin required` or `wrong pin`. */

import { byId, showMessage } from "./dom";

export class PinPrompt {
  private readonly section = byId("pin-prompt");
  private readonly form = byId<HTMLFormElement>("pin-form");
  private readonly input = byId<HTMLInputElement>("pin-input");
  private readonly message = byId("pin-message");
  private onSubmit: ((pin: string) => void) | null = null;

  constructor() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const pin = this.input.value.trim();
      if (!pin) {
        this.input.focus();
        return;
      }
      const submit = this.onSubmit;
      this.hide();
      submit?.(pin);
    });
  }

  /** Shows the form with `message` (why a PIN is asked for); `submit` gets the PIN once. */
  show(message: string, submit: (pin: string) => void): void {
    const wasHidden = this.section.hidden;
    this.onSubmit = submit;
    showMessage(this.message, message);
    this.section.hidden = false;
    if (wasHidden) {
      this.input.value = "";
      this.input.focus();
    }
  }

  hide(): void {
    this.onSubmit = null;
    this.section.hidden = true;
    this.input.value = "";
  }
}
