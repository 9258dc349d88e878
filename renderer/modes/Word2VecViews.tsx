import { extent, scaleLinear } from 'd3';
import { useEffect, useMemo, useState } from 'react';
import type { PointView } from '../../engine/train/modes/common.ts';
import type { VectorMetric } from '../../engine/train/modes/word2vec.ts';
import { useElementWidth } from '../charts/useElementWidth.ts';
import { clampInt } from './AutoencoderViews.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

/** Word vectors in 2-D, each point labelled with its word; the picked word and its neighbours stand out. */
function WordScatter({ points, picked, near, onPick }: { points: PointView[]; picked: string; near: readonly string[]; onPick: (word: string) => void }) {
  const [ref, width] = useElementWidth<HTMLDivElement>(320);
  const height = 320;
  const pad = 24;
  const { x, y } = useMemo(() => {
    const [x0, x1] = (extent(points, (p) => p.x) as [number, number] | [undefined, undefined]).map((v) => v ?? 0);
    const [y0, y1] = (extent(points, (p) => p.y) as [number, number] | [undefined, undefined]).map((v) => v ?? 0);
    return {
      x: scaleLinear().domain(x1 > x0 ? [x0, x1] : [x0 - 1, x0 + 1]).range([pad, width - pad]),
      y: scaleLinear().domain(y1 > y0 ? [y0, y1] : [y0 - 1, y0 + 1]).range([height - pad, pad]),
    };
  }, [points, width]);
  return (
    <div className="chart word-scatter" ref={ref} data-testid="word-projection" data-count={points.length}>
      <svg width={width} height={height} role="img" aria-label="word vectors in 2-D">
        {points.map((p) => {
          const word = p.text ?? '';
          const cls = word === picked ? 'word-point picked' : near.includes(word) ? 'word-point near' : 'word-point';
          return (
            <g key={word} className={cls} transform={`translate(${x(p.x)},${y(p.y)})`} onClick={() => onPick(word)}>
              <circle r={3} />
              <text x={4} y={3} data-testid="word-label">
                {word}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** word2vec: the nearest words to a typed word by cosine similarity or euclidean distance, and the labelled 2-D projection. */
export function Word2VecViews({ session }: { session: ModeSession }) {
  const words = session.state.info?.words;
  const [word, setWord] = useState(words?.query[0] ?? words?.vocab[0] ?? '');
  const [metric, setMetric] = useState<VectorMetric>('cosine');
  const [k, setK] = useState(5);
  useEffect(() => {
    if (words) setWord(words.query[0] ?? words.vocab[0] ?? '');
  }, [words]);
  const [settled, setSettled] = useState(word);
  useEffect(() => {
    const t = setTimeout(() => setSettled(word.trim()), 200);
    return () => clearTimeout(t);
  }, [word]);
  const neighbours = useModeView(session, settled ? { kind: 'neighbours', word: settled, k, metric } : null, JSON.stringify([settled, k, metric]));
  const projection = useModeView(session, { kind: 'projection' }, 'projection');
  const near = neighbours.view?.neighbours.map((n) => n.word) ?? [];
  return (
    <section className="mode-section word2vec-views" data-testid="mode-word2vec">
      <h4 className="section-title">Nearest words</h4>
      <div className="mode-controls">
        <label>
          word <input type="text" list="word2vec-words" value={word} onChange={(e) => setWord(e.target.value)} data-testid="word-input" aria-label="word" />
        </label>
        <datalist id="word2vec-words">
          {(words?.vocab ?? []).map((w) => (
            <option key={w} value={w} />
          ))}
        </datalist>
        <label>
          by{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value as VectorMetric)} data-testid="word-metric">
            <option value="cosine">cosine similarity</option>
            <option value="euclidean">euclidean distance</option>
          </select>
        </label>
        <label>
          k <input type="number" min={1} max={20} value={k} onChange={(e) => setK(clampInt(e.target.value, 1, 20, k))} data-testid="word-k" />
        </label>
        {words && words.query.length > 0 && (
          <span>
            try:{' '}
            {words.query.map((q) => (
              <button key={q} type="button" className="link-button" onClick={() => setWord(q)}>
                {q}
              </button>
            ))}
          </span>
        )}
        {neighbours.loading && <span className="mode-busy">searching…</span>}
      </div>
      {neighbours.error && <p className="mode-error" data-testid="word-error">{neighbours.error}</p>}
      {neighbours.view && (
        <ol className="word-neighbours" data-testid="word-neighbours" data-metric={neighbours.view.metric}>
          {neighbours.view.neighbours.map((n) => (
            <li key={n.word} data-testid="word-neighbour">
              {n.word} <span className="mode-busy">{n.score.toFixed(3)}</span>
            </li>
          ))}
        </ol>
      )}
      <h4 className="section-title">Word vectors in 2-D (PCA)</h4>
      {projection.error && <p className="mode-error">{projection.error}</p>}
      {projection.view && (
        <>
          <p className="mode-facts">
            The two axes keep {(projection.view.explained[0] * 100).toFixed(0)}% and {(projection.view.explained[1] * 100).toFixed(0)}% of the variance. Click a word to see its neighbours.
          </p>
          <WordScatter points={projection.view.points} picked={neighbours.view?.word ?? ''} near={near} onPick={setWord} />
        </>
      )}
    </section>
  );
}
