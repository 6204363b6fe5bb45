/** Screen-reader announcements, sound and browser notifications for alerts. */
import type { Alert } from '../../protocol/api.ts';
import { alertTypeText, severityText } from './format.ts';

export function alertSentence(a: Alert, pumpName: string): string {
  return `${severityText(a.severity)} alert, pump ${pumpName}: ${alertTypeText(a.type)}. ${a.message}`;
}

export class Announcer {
  private audio: AudioContext | null = null;
  soundOn = true;

  constructor(private readonly politeRegion: HTMLElement, private readonly assertiveRegion: HTMLElement) {}

  /** Read out by screen readers; high severity interrupts. */
  say(text: string, urgent: boolean): void {
    const region = urgent ? this.assertiveRegion : this.politeRegion;
    // re-setting the same text would not be announced again
    region.textContent = '';
    requestAnimationFrame(() => { region.textContent = text; });
  }

  /**
   * Must run inside a user gesture once (browsers block audio and permission prompts until then).
   * `deferAudioMs`: create the audio context a little later, on the page's sticky activation, so the
   * gesture's own handler stays short (creating it takes tens of ms).
   */
  enableSound(deferAudioMs = 0): void {
    this.soundOn = true;
    if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission();
    const startAudio = (): void => {
      try {
        this.audio ??= new AudioContext();
        void this.audio.resume();
      } catch { /* no audio device: the visual and notification cues remain */ }
    };
    if (deferAudioMs > 0) setTimeout(startAudio, deferAudioMs);
    else startAudio();
  }

  get soundBlocked(): boolean {
    return this.audio === null || this.audio.state !== 'running';
  }

  /** A high-severity alert: three short beeps and a system notification. */
  alarm(a: Alert, pumpName: string): void {
    if (this.soundOn) this.beep();
    if ('Notification' in window && Notification.permission === 'granted') {
      try {
        new Notification(`pumpwatch: ${alertTypeText(a.type)} — ${pumpName}`, { body: a.message, tag: a.id, requireInteraction: true });
      } catch { /* some platforms only allow notifications from a service worker */ }
    }
  }

  private beep(): void {
    const ctx = this.audio;
    if (!ctx || ctx.state !== 'running') return;
    const t0 = ctx.currentTime;
    for (let i = 0; i < 3; i++) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t0 + i * 0.3);
      gain.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.3 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.3 + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + i * 0.3);
      osc.stop(t0 + i * 0.3 + 0.22);
    }
  }
}
