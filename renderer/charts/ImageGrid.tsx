import type { ColourMap, ValueRange } from './colour.ts';
import { MapImage } from './MapImage.tsx';

export interface GridImage {
  values: ArrayLike<number>;
  label?: string;
}

export interface ImageGridProps {
  images: GridImage[];
  width: number;
  height: number;
  colourMap?: ColourMap;
  rgb?: boolean;
  /** One range for every tile, so tiles compare; each tile's own range when left out. */
  range?: ValueRange;
  size?: number;
  testId?: string;
  onSelect?: (index: number) => void;
}

/** Small images in a wrapping grid, each with its caption: feature maps, filters, samples. */
export function ImageGrid({ images, width, height, colourMap, rgb, range, size = 48, testId, onSelect }: ImageGridProps) {
  return (
    <div className="image-grid" data-testid={testId} data-count={images.length}>
      {images.map((img, i) => (
        <figure key={i} className="image-grid-item">
          <MapImage
            values={img.values}
            width={width}
            height={height}
            colourMap={colourMap}
            rgb={rgb}
            range={range}
            size={size}
            title={img.label}
            onClick={onSelect ? () => onSelect(i) : undefined}
          />
          {img.label !== undefined && <figcaption>{img.label}</figcaption>}
        </figure>
      ))}
    </div>
  );
}
