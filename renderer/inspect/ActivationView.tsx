import { useMemo } from 'react';
import { BarChart } from '../charts/BarChart.tsx';
import { Heatmap } from '../charts/Heatmap.tsx';
import { ImageGrid } from '../charts/ImageGrid.tsx';
import { activationView, splitMaps } from './views.ts';

export interface ActivationViewProps {
  nodeId: string;
  /** Per-sample shape (no batch dimension). */
  shape: number[];
  values: number[] | Float32Array;
}

/** A node's activation for one sample: feature maps, bars or a sequence heatmap by shape. */
export function ActivationView({ nodeId, shape, values }: ActivationViewProps) {
  const view = activationView(shape);
  const maps = useMemo(() => (view.kind === 'maps' ? splitMaps(values, view.channels, view.height, view.width) : []), [values, view]);
  const title = `Activations of ${nodeId} [${shape.join(' × ')}]`;
  switch (view.kind) {
    case 'maps':
      return (
        <div data-testid="activation-view" data-kind="maps">
          <h4 className="section-title">
            {title}
            {view.channels > maps.length ? ` (first ${maps.length} of ${view.channels} channels)` : ''}
          </h4>
          <ImageGrid testId="feature-maps" images={maps.map((m, i) => ({ values: m, label: `ch ${i}` }))} width={view.width} height={view.height} size={Math.max(40, Math.min(96, 4 * view.width))} />
        </div>
      );
    case 'bars':
      return (
        <div data-testid="activation-view" data-kind="bars">
          <h4 className="section-title">{title}</h4>
          <BarChart testId="activation-bars" bars={Array.from(values, (v, i) => ({ label: String(i), value: v }))} />
        </div>
      );
    case 'sequence':
      return (
        <div data-testid="activation-view" data-kind="sequence">
          <h4 className="section-title">{title}</h4>
          <Heatmap label={title} testId="activation-sequence" values={values} rows={view.steps} cols={view.features} rowTitle="time step" colTitle="feature" colourMap="diverging" />
        </div>
      );
    case 'scalar':
      return (
        <div data-testid="activation-view" data-kind="scalar">
          <h4 className="section-title">{title}</h4>
          <p>{values[0]}</p>
        </div>
      );
  }
}
