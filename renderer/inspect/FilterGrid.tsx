import { useMemo } from 'react';
import { ImageGrid } from '../charts/ImageGrid.tsx';
import { filterImages } from './views.ts';

/** The learned filters of a conv (or dense) node as a grid of small images; red positive, blue negative. */
export function FilterGrid({ nodeId, shape, values }: { nodeId: string; shape: number[]; values: number[] | Float32Array }) {
  const f = useMemo(() => filterImages(values, shape), [values, shape]);
  return (
    <div data-testid="filter-view">
      <h4 className="section-title">
        Filters of {nodeId} (weight [{shape.join(' × ')}]){shape[0] > f.images.length ? `, first ${f.images.length}` : ''}
      </h4>
      <ImageGrid
        testId="filters"
        images={f.images.map((values, i) => ({ values, label: `#${i}` }))}
        width={f.width}
        height={f.height}
        rgb={f.rgb}
        colourMap="diverging"
        size={f.height === 1 ? 96 : 40}
      />
    </div>
  );
}
