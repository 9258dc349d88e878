import { useEffect, useState } from 'react';
import type { ModeView } from '../../engine/session/protocol.ts';
import type { DecodeMethod } from '../../engine/train/modes/tokens.ts';
import { clampInt } from './AutoencoderViews.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

type Generated = Extract<ModeView, { kind: 'generate' }>;

const METRIC_LABELS: Record<string, string> = {
  loss: 'loss',
  tokenAccuracy: 'token accuracy',
  exactMatch: 'exact match',
  perplexity: 'perplexity',
  accuracy: 'next-character accuracy',
};

function metricText(name: string, v: number): string {
  return name.toLowerCase().includes('accuracy') || name === 'exactMatch' ? `${(v * 100).toFixed(1)}%` : v.toFixed(3);
}

/**
 * Sequence to sequence and character language model: a source (or prompt), the decoding
 * method (greedy, beam search with a width, sampling with a temperature and seed), the
 * generated text (beam search: every hypothesis with its log-probability) and the
 * held-out loss and accuracy.
 */
export function TextModeViews({ session }: { session: ModeSession }) {
  const { info, kind, splits } = session.state;
  const seq2seq = kind === 'seq2seq';
  const defaults = info?.text;
  const [input, setInput] = useState(defaults?.prompt ?? '');
  const [method, setMethod] = useState<DecodeMethod>(defaults?.generate.method ?? 'greedy');
  const [beamWidth, setBeamWidth] = useState(defaults?.generate.beamWidth ?? 3);
  const [temperature, setTemperature] = useState(defaults?.generate.temperature ?? 0.8);
  const [seed, setSeed] = useState(defaults?.generate.seed ?? 0);
  const [length, setLength] = useState(defaults?.generate.length ?? 80);
  // The project's defaults arrive with the run.
  useEffect(() => {
    if (!defaults) return;
    setInput(defaults.prompt);
    setMethod(defaults.generate.method ?? 'greedy');
    if (defaults.generate.beamWidth) setBeamWidth(defaults.generate.beamWidth);
    if (defaults.generate.temperature !== undefined) setTemperature(defaults.generate.temperature);
    if (defaults.generate.seed !== undefined) setSeed(defaults.generate.seed);
    if (defaults.generate.length !== undefined) setLength(defaults.generate.length);
  }, [defaults]);
  const [result, setResult] = useState<Generated | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generate = () => {
    setBusy(true);
    setError(null);
    session
      .view({
        kind: 'generate',
        ...(seq2seq ? { source: input } : { prompt: input, length }),
        method,
        ...(method === 'beam' ? { beamWidth } : {}),
        ...(method === 'sample' ? { temperature, seed } : {}),
      })
      .then(
        (v) => {
          setResult(v as Generated);
          setBusy(false);
        },
        (err: unknown) => {
          setError(err instanceof Error ? err.message : String(err));
          setBusy(false);
        },
      );
  };
  const evalSplit = splits && splits.test > 0 ? 'test' : splits && splits.val > 0 ? 'val' : 'train';
  const evaluation = useModeView(session, { kind: 'evaluate', split: evalSplit, limit: 200 }, evalSplit);
  return (
    <section className="mode-section text-mode" data-testid="mode-generate">
      <h4 className="section-title">{seq2seq ? 'Answer a source' : 'Continue a prompt'}</h4>
      <div className="mode-controls">
        <label>
          {seq2seq ? 'source' : 'prompt'}{' '}
          <input type="text" value={input} onChange={(e) => setInput(e.target.value)} data-testid="generate-input" aria-label={seq2seq ? 'source' : 'prompt'} className="generate-input" />
        </label>
        <label>
          method{' '}
          <select value={method} onChange={(e) => setMethod(e.target.value as DecodeMethod)} data-testid="generate-method">
            <option value="greedy">greedy</option>
            <option value="beam">beam search</option>
            <option value="sample">sampling</option>
          </select>
        </label>
        {method === 'beam' && (
          <label>
            width <input type="number" min={1} max={16} value={beamWidth} onChange={(e) => setBeamWidth(clampInt(e.target.value, 1, 16, beamWidth))} data-testid="generate-beam-width" />
          </label>
        )}
        {method === 'sample' && (
          <>
            <label>
              temperature <input type="range" min={0.1} max={2} step={0.05} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} data-testid="generate-temperature" aria-label="temperature" />
              <output>{temperature.toFixed(2)}</output>
            </label>
            <label>
              seed <input type="number" min={0} max={1000000} value={seed} onChange={(e) => setSeed(clampInt(e.target.value, 0, 1000000, seed))} data-testid="generate-seed" />
            </label>
          </>
        )}
        {!seq2seq && (
          <label>
            length <input type="number" min={1} max={1000} value={length} onChange={(e) => setLength(clampInt(e.target.value, 1, 1000, length))} data-testid="generate-length" />
          </label>
        )}
        <button type="button" onClick={generate} disabled={busy || input.length === 0} data-testid="generate-run">
          Generate
        </button>
        {busy && <span className="mode-busy">generating…</span>}
      </div>
      {error && <p className="mode-error" data-testid="generate-error">{error}</p>}
      {result && (
        <div className="generate-result" data-testid="generate-output" data-method={result.method}>
          <p className="generate-text">
            {!seq2seq && <span className="generate-prompt">{result.input}</span>}
            <strong data-testid="generate-text">{result.text}</strong>
          </p>
          <p className="mode-facts">
            {result.method === 'beam' ? 'best of the beam' : result.method}, log-probability {result.logProb.toFixed(3)}
          </p>
          {result.hypotheses.length > 0 && (
            <table className="generate-hypotheses" data-testid="generate-hypotheses">
              <thead>
                <tr>
                  <th>#</th>
                  <th>hypothesis</th>
                  <th>log-probability</th>
                  <th>finished</th>
                </tr>
              </thead>
              <tbody>
                {result.hypotheses.map((h, i) => (
                  <tr key={i} data-testid="generate-hypothesis">
                    <td>{i + 1}</td>
                    <td className="generate-hypothesis-text">{h.text || '(empty)'}</td>
                    <td>{h.logProb.toFixed(3)}</td>
                    <td>{h.finished ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
      <h4 className="section-title">Evaluation</h4>
      {evaluation.error && <p className="mode-error">{evaluation.error}</p>}
      {evaluation.view && (
        <p className="mode-facts" data-testid="mode-evaluation">
          {evaluation.view.split} split, {evaluation.view.samples} samples:{' '}
          {Object.entries(evaluation.view.metrics)
            .map(([k, v]) => `${METRIC_LABELS[k] ?? k} ${metricText(k, v)}`)
            .join(', ')}
        </p>
      )}
    </section>
  );
}
