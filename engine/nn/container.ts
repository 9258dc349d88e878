/** Containers (torch.nn.Sequential). */
import type { Tensor } from '../core/tensor.ts';
import { Module } from './module.ts';

/**
 * Sequential: runs its layers in order, each on the previous one's output. Children are
 * named "0", "1", ... so that state_dict names match torch ("0.weight", "2.bias").
 * Input: whatever the first layer takes -> output of the last layer.
 */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...layers: Module[]) {
    super();
    for (const l of layers) this.append(l);
  }

  append(layer: Module): this {
    this.registerModule(String(this.layers.length), layer);
    this.layers.push(layer);
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const i = index < 0 ? index + this.layers.length : index;
    const layer = this.layers[i];
    if (!layer) throw new Error(`Sequential: index ${index} is out of range for ${this.layers.length} layers`);
    return layer;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.forward(y);
    return y;
  }
}
