import { useEffect, useRef } from 'react';
import { planesToRgba, toRgba, type ColourMap, type ValueRange } from './colour.ts';

export interface MapImageProps {
  /** Row-major values: one [H, W] map, or [3, H, W] planes when `rgb` is set. */
  values: ArrayLike<number>;
  width: number;
  height: number;
  colourMap?: ColourMap;
  rgb?: boolean;
  range?: ValueRange;
  /** Displayed size in CSS pixels (the longer side); pixels stay sharp. */
  size?: number;
  title?: string;
  testId?: string;
  onClick?: () => void;
}

/** One small image of a float map drawn on a canvas: a feature map, a filter, a sample. */
export function MapImage({ values, width, height, colourMap = 'viridis', rgb = false, range, size = 48, title, testId, onClick }: MapImageProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || width <= 0 || height <= 0) return;
    const bytes = rgb ? planesToRgba(values, width, height, range) : toRgba(values, width, height, colourMap, range);
    ctx.putImageData(new ImageData(bytes as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  }, [values, width, height, colourMap, rgb, range]);
  const scale = size / Math.max(width, height, 1);
  return (
    <canvas
      ref={ref}
      className={onClick ? 'map-image clickable' : 'map-image'}
      width={width}
      height={height}
      style={{ width: Math.round(width * scale), height: Math.round(height * scale) }}
      title={title}
      data-testid={testId}
      onClick={onClick}
    />
  );
}
