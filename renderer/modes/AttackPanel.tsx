import { useEffect, useState } from 'react';
import { Figure } from './ImageView.tsx';
import { clampInt } from './AutoencoderViews.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

/**
 * Adversarial attack on the trained classifier: the original sample, the perturbation
 * (amplified), the adversarial sample, both predictions, and the success rate over the
 * test split, for an epsilon, a number of steps (1: FGSM) and an optional target class.
 */
export function AttackPanel({ session }: { session: ModeSession }) {
  const { info, splits } = session.state;
  const classNames = info?.classNames ?? [];
  const classes = Math.max(2, classNames.length);
  const [epsilon, setEpsilon] = useState(info?.attack?.epsilon ?? 0.1);
  const [steps, setSteps] = useState(info?.attack?.steps ?? 1);
  const [target, setTarget] = useState<number | null>(info?.attack?.targetClass ?? null);
  const [index, setIndex] = useState(0);
  // The project's attack settings arrive with the run.
  useEffect(() => {
    if (!info?.attack) return;
    setEpsilon(info.attack.epsilon);
    setSteps(info.attack.steps);
    setTarget(info.attack.targetClass ?? null);
  }, [info]);
  // Settle the slider before asking (each answer attacks a whole batch of samples).
  const [settled, setSettled] = useState({ epsilon, steps, target, index });
  useEffect(() => {
    const t = setTimeout(() => setSettled({ epsilon, steps, target, index }), 150);
    return () => clearTimeout(t);
  }, [epsilon, steps, target, index]);
  const q = settled;
  const { view, loading, error } = useModeView(
    session,
    { kind: 'attack', index: q.index, epsilon: q.epsilon, steps: q.steps, ...(q.target !== null ? { targetClass: q.target } : {}), limit: 100 },
    JSON.stringify(q),
  );
  const name = (c: number) => classNames[c] ?? String(c);
  const max = Math.max(0, (splits?.test || splits?.val || splits?.train || 1) - 1);
  return (
    <section className="mode-section attack-panel" data-testid="mode-attack">
      <h4 className="section-title">Attack the classifier</h4>
      <div className="mode-controls">
        <label>
          epsilon <input type="range" min={0} max={0.5} step={0.01} value={epsilon} onChange={(e) => setEpsilon(Number(e.target.value))} data-testid="attack-epsilon" aria-label="epsilon" />
          <output data-testid="attack-epsilon-value">{epsilon.toFixed(2)}</output>
        </label>
        <label>
          method{' '}
          <select value={steps} onChange={(e) => setSteps(Number(e.target.value))} data-testid="attack-steps">
            <option value={1}>FGSM (1 step)</option>
            <option value={5}>PGD, 5 steps</option>
            <option value={10}>PGD, 10 steps</option>
          </select>
        </label>
        <label>
          <input type="checkbox" checked={target !== null} onChange={(e) => setTarget(e.target.checked ? 0 : null)} data-testid="attack-targeted" /> targeted
        </label>
        {target !== null && (
          <label>
            towards{' '}
            <select value={target} onChange={(e) => setTarget(Number(e.target.value))} data-testid="attack-target">
              {Array.from({ length: classes }, (_, c) => (
                <option key={c} value={c}>
                  {name(c)}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          test sample <input type="number" min={0} max={max} value={index} onChange={(e) => setIndex(clampInt(e.target.value, 0, max, index))} data-testid="attack-index" />
        </label>
        {loading && <span className="mode-busy">attacking…</span>}
      </div>
      {error && <p className="mode-error">{error}</p>}
      {view && (
        <>
          <div className="attack-images">
            <Figure image={view.view.original} caption={`original: ${name(view.view.before.label)} (${pct(view.view.before.probability)})`} testId="attack-original" />
            <Figure image={view.view.perturbation} caption={`perturbation ×${(0.5 / Math.max(view.view.perturbationMax, 1e-6)).toFixed(1)} (max ${view.view.perturbationMax.toFixed(2)})`} testId="attack-perturbation" />
            <Figure image={view.view.adversarial} caption={`adversarial: ${name(view.view.after.label)} (${pct(view.view.after.probability)})`} testId="attack-adversarial" />
            <div className={view.view.success ? 'attack-verdict success' : 'attack-verdict'} data-testid="attack-verdict">
              <div>true class: {name(view.view.trueLabel)}</div>
              <div data-testid="attack-before">before: {name(view.view.before.label)}</div>
              <div data-testid="attack-after">after: {name(view.view.after.label)}</div>
              <strong>{view.view.success ? 'The attack worked' : 'The attack failed'}</strong>
            </div>
          </div>
          <p className="mode-facts" data-testid="attack-success-rate">
            Success rate {pct(view.report.successRate)} ({view.report.succeeded} of {view.report.attacked} correctly classified {view.split} samples{view.targetClass !== null ? ` moved to ${name(view.targetClass)}` : ' misclassified'}); accuracy {pct(view.report.cleanAccuracy)} before, {pct(view.report.adversarialAccuracy)} after.
          </p>
        </>
      )}
    </section>
  );
}
