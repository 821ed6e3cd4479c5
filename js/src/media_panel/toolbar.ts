// The panel's toolbar: its title, the key picker and the step slider with prev/next buttons.
// The slider moves over the steps that have media (`_steps`), not over every integer.

import { h } from "../common";
import type { KeyEntry } from "./types";

/** The index in `steps` of the step shown: `step` itself, else the closest, else the last. */
export function stepIndex(steps: number[], step: number | null): number {
  if (!steps.length) return -1;
  if (step === null || step === undefined) return steps.length - 1;
  let best = 0;
  for (let i = 1; i < steps.length; i++) {
    if (Math.abs(steps[i] - step) <= Math.abs(steps[best] - step)) best = i;
  }
  return best;
}

export class Toolbar {
  readonly element = h("div", "ll-bar ll-mp-bar");
  readonly picker = document.createElement("select");
  readonly slider = document.createElement("input");
  readonly prev = h("button", "ll-mp-prev", "◀");
  readonly next = h("button", "ll-mp-next", "▶");
  readonly label = h("span", "ll-mp-step", "");
  private readonly stepBox = h("span", "ll-mp-stepbox");
  private steps: number[] = [];

  constructor(
    pickKey: (key: string) => void,
    pickStep: (step: number) => void,
  ) {
    this.picker.className = "ll-mp-key";
    this.picker.title = "media key";
    this.slider.type = "range";
    this.slider.className = "ll-mp-slider";
    this.slider.min = "0";
    this.slider.step = "1";
    this.prev.title = "previous step with media";
    this.next.title = "next step with media";
    this.picker.addEventListener("change", () => pickKey(this.picker.value));
    // The label follows the thumb as it moves; the kernel reads the step when it is let go.
    this.slider.addEventListener("input", () => this.showLabel(Number(this.slider.value)));
    this.slider.addEventListener("change", () => pickStep(this.steps[Number(this.slider.value)]));
    const go = (d: number) => {
      const i = Number(this.slider.value) + d;
      if (i < 0 || i >= this.steps.length) return;
      this.slider.value = String(i);
      this.showLabel(i);
      pickStep(this.steps[i]);
    };
    this.prev.addEventListener("click", () => go(-1));
    this.next.addEventListener("click", () => go(1));
    this.stepBox.append(this.prev, this.slider, this.next, this.label);
    this.element.append(h("span", "ll-total ll-mp-title", "Media"), this.picker, this.stepBox);
  }

  /** The keys to pick from, and the one shown. */
  drawKeys(keys: KeyEntry[], key: string): void {
    this.picker.replaceChildren(
      ...keys.map((k) => {
        const o = document.createElement("option");
        o.value = k.key;
        o.textContent = `${k.key} (${k.type})`;
        return o;
      }),
    );
    this.picker.value = key;
    this.picker.style.display = keys.length ? "" : "none";
  }

  /** The slider over `steps` at `step`; hidden for a key shown over every step (histograms). */
  drawSteps(steps: number[], step: number | null, overSteps: boolean): void {
    this.steps = steps;
    const i = stepIndex(steps, step);
    this.slider.max = String(Math.max(steps.length - 1, 0));
    this.slider.value = String(Math.max(i, 0));
    this.slider.disabled = steps.length < 2;
    this.stepBox.style.display = steps.length && !overSteps ? "" : "none";
    this.showLabel(i);
    this.element.dataset.overSteps = String(overSteps);
  }

  private showLabel(i: number): void {
    this.prev.disabled = i <= 0;
    this.next.disabled = i < 0 || i >= this.steps.length - 1;
    this.label.textContent = i < 0 ? "" : `step ${this.steps[i]} · ${i + 1} of ${this.steps.length}`;
    this.label.dataset.step = i < 0 ? "" : String(this.steps[i]);
  }
}
