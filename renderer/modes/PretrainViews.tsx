import { useState } from 'react';
import { clampInt, Reconstructions } from './AutoencoderViews.tsx';
import { AccuracyBar, pct } from './ProbeViews.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

interface CompareSettings {
  seed: number;
  perClass: number;
  probeSteps: number;
  finetuneSteps: number;
}

/**
 * Autoencoder pretraining for few labels: the autoencoder's reconstructions, then one seeded
 * few-label split of the training split on which the classifier trains from scratch, as a
 * linear probe on the pretrained encoder and fine-tuned, with the same steps, optimiser and
 * early stopping; their test accuracies side by side and the gain. The comparison runs
 * whenever training pauses or ends, and again on request (another label set, other steps).
 */
export function PretrainViews({ session }: { session: ModeSession }) {
  const { info, phase } = session.state;
  const p = info?.pretrain;
  const defaults: CompareSettings = { seed: p?.seed ?? 0, perClass: p?.perClass ?? 10, probeSteps: p?.probeSteps ?? 100, finetuneSteps: p?.finetuneSteps ?? 500 };
  const [draft, setDraft] = useState<CompareSettings | null>(null);
  const [asked, setAsked] = useState<CompareSettings | null>(null);
  const form = draft ?? defaults;
  const settings = asked ?? defaults;
  const maxPerClass = p?.maxPerClass ?? 1000;
  const set = (field: keyof CompareSettings, min: number, max: number) => (e: { target: { value: string } }) => setDraft({ ...form, [field]: clampInt(e.target.value, min, max, form[field]) });
  // Comparing while the autoencoder trains would copy a moving encoder (and slow training down).
  const view = useModeView(session, phase === 'idle' ? { kind: 'pretrain-compare', ...settings } : null, JSON.stringify(settings));
  const v = view.view;
  const classes = p?.classes ?? 10;
  return (
    <>
      <Reconstructions session={session} />
      <section className="mode-section probe-views" data-testid="mode-pretrain">
        <h4 className="section-title">Pretrained against from scratch</h4>
        <p className="mode-facts">
          A few labelled samples of each class, drawn from the training split by the label-set seed ({p?.valPerClass ?? 20} more of each class for early stopping), train the classifier three ways: from random weights, as a linear probe on the pretrained encoder (frozen), and the probe then fine-tuned. All use the same optimiser, batch size and early stopping, and scratch trains as many steps as the other two together; each is scored at its best validation check.
        </p>
        <div className="mode-controls">
          <label>
            label set <input type="number" min={0} max={100000} value={form.seed} onChange={set('seed', 0, 100000)} data-testid="pretrain-seed" />
          </label>
          <label>
            labels per class <input type="number" min={1} max={maxPerClass} value={form.perClass} onChange={set('perClass', 1, maxPerClass)} data-testid="pretrain-per-class" />
          </label>
          <label>
            probe steps <input type="number" min={1} max={20000} value={form.probeSteps} onChange={set('probeSteps', 1, 20000)} data-testid="pretrain-probe-steps" />
          </label>
          <label>
            fine-tune steps <input type="number" min={0} max={20000} value={form.finetuneSteps} onChange={set('finetuneSteps', 0, 20000)} data-testid="pretrain-finetune-steps" />
          </label>
          <button type="button" disabled={phase !== 'idle'} onClick={() => setAsked({ ...form })} data-testid="pretrain-run">
            Compare
          </button>
          <button type="button" disabled={phase !== 'idle'} onClick={() => {
            const next = { ...form, seed: form.seed + 1 };
            setDraft(next);
            setAsked(next);
          }} data-testid="pretrain-next">
            Another label set
          </button>
          {phase === 'running' && <span className="mode-busy">the comparison runs when training pauses</span>}
          {view.loading && <span className="mode-busy" data-testid="pretrain-busy">training the three classifiers…</span>}
        </div>
        {view.error && <p className="mode-error" data-testid="pretrain-error">{view.error}</p>}
        {v && (
          <div className="probe-result" data-testid="pretrain-result" data-seed={v.seed} data-per-class={v.perClass} data-probe-steps={v.probeSteps} data-finetune-steps={v.finetuneSteps} data-gain={v.gain.toFixed(4)}>
            <AccuracyBar label={`from scratch, ${v.probeSteps + v.finetuneSteps} steps`} value={v.scratch.test} testId="pretrain-scratch" muted title={`best validation ${pct(v.scratch.val)} at step ${v.scratch.step}`} />
            <AccuracyBar label={`linear probe, ${v.probeSteps} steps`} value={v.probe.test} testId="pretrain-probe" title={`best validation ${pct(v.probe.val)} at step ${v.probe.step}`} />
            <AccuracyBar label={`probe + fine-tune, ${v.finetuneSteps} more`} value={v.pretrained.test} testId="pretrain-tuned" title={`best validation ${pct(v.pretrained.val)} at step ${v.pretrained.step}`} />
            <p className="mode-facts" data-testid="pretrain-gain">
              <strong>
                Pretraining {v.gain >= 0 ? 'gained' : 'lost'} {Math.abs(100 * v.gain).toFixed(1)} points
              </strong>{' '}
              over training from scratch on label set {v.seed}.
            </p>
            <p className="mode-facts" data-testid="pretrain-summary">
              {v.perClass} labels per class ({v.perClass * classes} in all), {v.valPerClass} more per class for early stopping; scored on {v.samples} {v.split} samples (chance {pct(1 / Math.max(1, classes))}). Best validation checks at steps {v.scratch.step} (scratch), {v.probe.step} (probe) and {v.pretrained.step} (fine-tuned).
            </p>
          </div>
        )}
      </section>
    </>
  );
}
