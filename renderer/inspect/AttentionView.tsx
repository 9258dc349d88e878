import { useState } from 'react';
import { Heatmap } from '../charts/Heatmap.tsx';

export interface AttentionViewProps {
  nodeId: string;
  /** [heads, queries, keys] weights, row-major. */
  values: number[] | Float32Array;
  heads: number;
  queries: number;
  keys: number;
  /** Token strings or patch names for the query and key axes. */
  queryLabels?: string[];
  keyLabels?: string[];
}

/** Attention maps per head: query x key heatmaps with token or patch labels. */
export function AttentionView({ nodeId, values, heads, queries, keys, queryLabels, keyLabels }: AttentionViewProps) {
  const [head, setHead] = useState<number | 'all'>('all');
  const plane = queries * keys;
  const shown = head === 'all' ? Array.from({ length: heads }, (_, h) => h) : [head];
  const qLabels = queryLabels ?? Array.from({ length: queries }, (_, i) => String(i));
  const kLabels = keyLabels ?? Array.from({ length: keys }, (_, i) => String(i));
  const cell = head === 'all' ? Math.max(4, Math.min(18, Math.floor(200 / Math.max(queries, keys)))) : Math.max(6, Math.min(32, Math.floor(420 / Math.max(queries, keys))));
  return (
    <div data-testid="attention-view" data-heads={heads}>
      <h4 className="section-title">
        Attention of {nodeId}: {heads} head{heads === 1 ? '' : 's'}, {queries} queries × {keys} keys
      </h4>
      <label className="setting" style={{ gridTemplateColumns: '60px auto', justifyContent: 'start' }}>
        <span className="setting-label">Head</span>
        <select data-testid="attention-head" value={String(head)} onChange={(e) => setHead(e.target.value === 'all' ? 'all' : Number(e.target.value))}>
          <option value="all">All heads</option>
          {Array.from({ length: heads }, (_, h) => (
            <option key={h} value={h}>
              Head {h + 1}
            </option>
          ))}
        </select>
      </label>
      <div className="inspect-row">
        {shown.map((h) => (
          <figure key={h} style={{ margin: 0 }}>
            <Heatmap
              label={`Attention head ${h + 1}`}
              testId={`attention-head-${h}`}
              values={values.slice(h * plane, (h + 1) * plane)}
              rows={queries}
              cols={keys}
              rowLabels={qLabels}
              colLabels={kLabels}
              rowTitle="query"
              colTitle="key"
              cell={cell}
              format={(v) => v.toFixed(3)}
            />
            <figcaption className="section-title">Head {h + 1}</figcaption>
          </figure>
        ))}
      </div>
    </div>
  );
}
