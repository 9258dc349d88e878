import { useEffect, useRef } from 'react';

export interface DrawCanvasProps {
  width: number;
  height: number;
  /** Called with the drawing as [H * W] values in 0..1 (white strokes on black, like MNIST). */
  onChange: (pixels: Float32Array) => void;
  size?: number;
}

/** Reads the canvas down to `width` x `height` grey values by averaging blocks of pixels. */
export function downsample(rgba: Uint8ClampedArray, srcW: number, srcH: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * srcW) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * srcW) / width));
      const y0 = Math.floor((y * srcH) / height);
      const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * srcH) / height));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += rgba[(yy * srcW + xx) * 4];
      out[y * width + x] = sum / ((x1 - x0) * (y1 - y0) * 255);
    }
  }
  return out;
}

/** A small canvas to draw a sample by hand (image models), sent for inspection as the user draws. */
export function DrawCanvas({ width, height, onChange, size = 168 }: DrawCanvasProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const last = useRef<{ x: number; y: number } | null>(null);
  const scale = size / Math.max(width, height);
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);

  const clear = (): void => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, w, h);
  };
  useEffect(clear, [w, h]);

  const emit = (): void => {
    const ctx = ref.current?.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    onChange(downsample(ctx.getImageData(0, 0, w, h).data, w, h, width, height));
  };
  const point = (ev: React.PointerEvent<HTMLCanvasElement>) => {
    const r = ev.currentTarget.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  };
  const stroke = (to: { x: number; y: number }): void => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = Math.max(2, scale * 2.2);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    const from = last.current ?? to;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + 0.01, to.y);
    ctx.stroke();
    last.current = to;
  };
  return (
    <div className="draw-box">
      <canvas
        ref={ref}
        className="draw-canvas"
        data-testid="draw-canvas"
        width={w}
        height={h}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          drawing.current = true;
          last.current = null;
          stroke(point(e));
        }}
        onPointerMove={(e) => drawing.current && stroke(point(e))}
        onPointerUp={() => {
          drawing.current = false;
          last.current = null;
          emit();
        }}
      />
      <button
        type="button"
        data-testid="draw-clear"
        onClick={() => {
          clear();
          emit();
        }}
      >
        Clear
      </button>
    </div>
  );
}
