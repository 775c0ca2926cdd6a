/**
 * Keeps the screen on during a call (Screen Wake Lock API, where available). The browser
 * releases the lock when the page is hidden, so it is taken again when the page shows.
 */

export class ScreenWakeLock {
  private sentinel: WakeLockSentinel | null = null;
  private active = false;
  private readonly onVisibility = (): void => {
    if (this.active && document.visibilityState === "visible") void this.request();
  };

  acquire(): void {
    if (this.active) return;
    this.active = true;
    document.addEventListener("visibilitychange", this.onVisibility);
    void this.request();
  }

  release(): void {
    this.active = false;
    document.removeEventListener("visibilitychange", this.onVisibility);
    void this.sentinel?.release().catch(() => undefined);
    this.sentinel = null;
  }

  private async request(): Promise<void> {
    if (!("wakeLock" in navigator) || (this.sentinel && !this.sentinel.released)) return;
    try {
      this.sentinel = await navigator.wakeLock.request("screen");
    } catch {
      // Refused (battery saver, no permission): the call works without it.
    }
  }
}
