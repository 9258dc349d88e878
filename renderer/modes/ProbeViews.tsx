import { useState } from 'react';
import { clampInt } from './AutoencoderViews.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

export const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** One accuracy as a labelled bar from 0 to 100%. */
export function AccuracyBar({ label, value, testId, muted, title }: { label: string; value: number; testId: string; muted?: boolean; title?: string }) {
  return (
    <div className="probe-bar" data-testid={testId} data-value={value.toFixed(4)} title={title}>
      <span className="probe-bar-label">{label}</span>
      <span className="probe-bar-track">
        <span className={`probe-bar-fill${muted ? ' muted' : ''}`} style={{ width: `${Math.max(0, Math.min(1, value)) * 100}%` }} />
      </span>
      <strong>{pct(value)}</strong>
    </div>
  );
}

/**
 * Rotation prediction and contrastive learning: after pretraining, a linear classifier on
 * the network's frozen features, trained on a few labelled samples, measures what the
 * features learned; the same probe on the untrained network's features is the baseline. The
 * probe runs whenever training pauses or ends.
 */
export function ProbeViews({ session }: { session: ModeSession }) {
  const { info, phase } = session.state;
  const probe = info?.probe;
  const [labels, setLabels] = useState(probe?.labels ?? 100);
  const [steps, setSteps] = useState(300);
  const [asked, setAsked] = useState<{ labels: number; steps: number } | null>(null);
  const settings = asked ?? { labels: probe?.labels ?? 100, steps: 300 };
  // Probing while the network trains would measure a moving target (and slow training down).
  const view = useModeView(session, phase === 'idle' ? { kind: 'probe', ...settings } : null, JSON.stringify(settings));
  const v = view.view;
  return (
    <section className="mode-section probe-views" data-testid="mode-probe">
      <h4 className="section-title">Linear probe</h4>
      <p className="mode-facts">
        A linear classifier on the frozen <code>{probe?.featureId ?? 'features'}</code> output, trained on the first labelled samples: the better the pretrained features, the higher its accuracy. The same probe on the untrained network is the baseline.
      </p>
      <div className="mode-controls">
        <label>
          labels <input type="number" min={1} max={probe?.maxLabels ?? 10000} value={labels} onChange={(e) => setLabels(clampInt(e.target.value, 1, probe?.maxLabels ?? 10000, labels))} data-testid="probe-labels" />
        </label>
        <label>
          steps <input type="number" min={1} max={5000} value={steps} onChange={(e) => setSteps(clampInt(e.target.value, 1, 5000, steps))} data-testid="probe-steps" />
        </label>
        <button type="button" disabled={phase !== 'idle' || view.loading} onClick={() => setAsked({ labels, steps })} data-testid="probe-run">
          Probe again
        </button>
        {phase === 'running' && <span className="mode-busy">the probe runs when training pauses</span>}
        {view.loading && <span className="mode-busy" data-testid="probe-busy">training the probes…</span>}
      </div>
      {view.error && <p className="mode-error" data-testid="probe-error">{view.error}</p>}
      {v && (
        <div className="probe-result" data-testid="probe-result" data-labels={v.labels} data-steps={v.steps}>
          <AccuracyBar label="pretrained features" value={v.accuracy} testId="probe-accuracy" />
          <AccuracyBar label="untrained features" value={v.baseline} testId="probe-baseline" muted />
          <p className="mode-facts" data-testid="probe-summary">
            {v.labels} labels, {v.steps} steps, scored on {v.samples} {v.split} samples (chance {pct(1 / Math.max(1, session.state.info?.classNames.length || 10))}).
          </p>
          <p className="mode-facts" data-testid="probe-pretext">
            Pretext task: {v.pretext.name} {pct(v.pretext.value)} on {v.pretext.samples} samples (chance {pct(v.pretext.chance)}).
          </p>
        </div>
      )}
    </section>
  );
}
