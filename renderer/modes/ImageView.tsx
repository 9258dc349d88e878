import { useEffect, useRef } from 'react';
import type { ImageView } from '../../engine/train/modes/common.ts';

/**
 * An image from a mode view (values in [0, 1], channels last) drawn on a canvas at `size`
 * CSS pixels along its longer side, pixels kept sharp.
 */
export function ModeImage({ image, size = 84, title, testId, onClick }: { image: ImageView; size?: number; title?: string; testId?: string; onClick?: () => void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx || image.width <= 0 || image.height <= 0) return;
    const n = image.width * image.height;
    const bytes = new Uint8ClampedArray(n * 4);
    for (let p = 0; p < n; p++) {
      for (let ch = 0; ch < 3; ch++) bytes[p * 4 + ch] = Math.round(255 * image.values[p * image.channels + (image.channels >= 3 ? ch : 0)]);
      bytes[p * 4 + 3] = 255;
    }
    ctx.putImageData(new ImageData(bytes, image.width, image.height), 0, 0);
  }, [image]);
  const scale = size / Math.max(image.width, image.height, 1);
  return (
    <canvas
      ref={ref}
      className={onClick ? 'mode-image clickable' : 'mode-image'}
      width={image.width}
      height={image.height}
      style={{ width: Math.round(image.width * scale), height: Math.round(image.height * scale) }}
      title={title}
      data-testid={testId}
      data-width={image.width}
      data-height={image.height}
      onClick={onClick}
    />
  );
}

/** An image with a caption under it. */
export function Figure({ image, caption, size, testId }: { image: ImageView; caption: string; size?: number; testId?: string }) {
  return (
    <figure className="mode-figure" data-testid={testId}>
      <ModeImage image={image} size={size} title={caption} />
      <figcaption>{caption}</figcaption>
    </figure>
  );
}
