import { useEffect, useState } from 'react';
import type { ModeView } from '../../engine/session/protocol.ts';
import type { PointView } from '../../engine/train/modes/common.ts';
import { Figure, ModeImage } from './ImageView.tsx';
import { LatentScatter } from './LatentScatter.tsx';
import { useModeView, type ModeSession } from './useModeSession.ts';

const RECONSTRUCTIONS = 8;
const LATENT_POINTS = 300;

/** Inputs beside their reconstructions (and the noisy input of a denoising autoencoder). */
export function Reconstructions({ session }: { session: ModeSession }) {
  const { view, error } = useModeView(session, { kind: 'reconstructions', count: RECONSTRUCTIONS }, 'reconstructions');
  return (
    <section className="mode-section" data-testid="mode-reconstructions">
      <h4 className="section-title">Reconstructions</h4>
      {error && <p className="mode-error">{error}</p>}
      {view && (
        <div className="reconstruction-list">
          {view.items.map((r) => (
            <div key={r.index} className="reconstruction" data-testid="reconstruction">
              <Figure image={r.input} caption="input" size={56} />
              {r.noisy && <Figure image={r.noisy} caption="noisy" size={56} />}
              <Figure image={r.output} caption={`output (MSE ${r.error.toFixed(3)})`} size={56} />
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

/** The latent space in 2-D; the hovered point's sample shows beside it. */
export function LatentSpace({ session, onPick, marked }: { session: ModeSession; onPick?: (p: PointView) => void; marked?: { index: number; label: string }[] }) {
  const { view, error } = useModeView(session, { kind: 'latent', count: LATENT_POINTS }, 'latent');
  const [hover, setHover] = useState<PointView | null>(null);
  const [sample, setSample] = useState<Extract<ModeView, { kind: 'sample' }> | null>(null);
  const classNames = session.state.info?.classNames ?? [];
  const { view: ask } = session;
  useEffect(() => {
    if (hover?.index === undefined) return;
    let live = true;
    ask({ kind: 'sample', index: hover.index }).then(
      (v) => live && v.kind === 'sample' && setSample(v),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [hover, ask]);
  const title = view ? (view.projected ? `Latent space (${view.dim}-D, first two principal components)` : 'Latent space') : 'Latent space';
  return (
    <section className="mode-section latent-section" data-testid="mode-latent">
      {error && <p className="mode-error">{error}</p>}
      {view && (
        <div className="latent-row">
          <LatentScatter points={view.points} classNames={classNames} title={title} onHover={setHover} onPick={onPick} marked={marked} testId="latent-scatter" />
          <div className="latent-hover" data-testid="latent-hover">
            {sample && hover?.index === sample.index && sample.image ? (
              <Figure image={sample.image} caption={`sample ${sample.index}${sample.label !== null ? `: ${classNames[sample.label] ?? sample.label}` : ''}`} size={84} testId="latent-hover-sample" />
            ) : (
              <p className="panel-empty">Hover a point to see its sample{onPick ? '; click to pick it' : ''}.</p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

/** VAE: new images decoded from random codes of the prior N(0, I). */
export function PriorSamples({ session }: { session: ModeSession }) {
  const [seed, setSeed] = useState(0);
  const { view, error } = useModeView(session, { kind: 'prior', count: 16, cols: 8, seed }, `prior-${seed}`);
  return (
    <section className="mode-section" data-testid="mode-prior">
      <h4 className="section-title">
        Samples from the prior{' '}
        <button type="button" onClick={() => setSeed((s) => s + 1)} data-testid="prior-resample">
          New samples
        </button>
      </h4>
      {error && <p className="mode-error">{error}</p>}
      {view && <ModeImage image={view.grid} size={Math.min(520, view.grid.width * 2)} title="Decoded prior samples" testId="prior-grid" />}
    </section>
  );
}

/** VAE: the decoded straight path between two samples' latent means. */
export function Interpolation({ session, a, b, onChange }: { session: ModeSession; a: number; b: number; onChange: (a: number, b: number) => void }) {
  const [steps, setSteps] = useState(8);
  const { view, error } = useModeView(session, { kind: 'interpolate', a, b, steps }, `interp-${a}-${b}-${steps}`);
  const max = Math.max(0, (session.state.splits?.test || session.state.splits?.val || session.state.splits?.train || 1) - 1);
  return (
    <section className="mode-section" data-testid="mode-interpolation">
      <h4 className="section-title">Interpolation</h4>
      <div className="mode-controls">
        <label>
          from sample <input type="number" min={0} max={max} value={a} onChange={(e) => onChange(clampInt(e.target.value, 0, max, a), b)} data-testid="interp-a" />
        </label>
        <label>
          to sample <input type="number" min={0} max={max} value={b} onChange={(e) => onChange(a, clampInt(e.target.value, 0, max, b))} data-testid="interp-b" />
        </label>
        <label>
          steps <input type="number" min={2} max={32} value={steps} onChange={(e) => setSteps(clampInt(e.target.value, 2, 32, steps))} data-testid="interp-steps" />
        </label>
      </div>
      {error && <p className="mode-error">{error}</p>}
      {view && <ModeImage image={view.strip} size={Math.min(640, view.strip.width * 2)} title={`From sample ${view.a} to sample ${view.b}`} testId="interpolation-strip" />}
    </section>
  );
}

export function clampInt(text: string, lo: number, hi: number, fallback: number): number {
  const v = Number(text);
  if (!Number.isFinite(v)) return fallback;
  return Math.min(hi, Math.max(lo, Math.round(v)));
}

/** Autoencoder and VAE views: reconstructions and the latent space; for a VAE also prior samples and interpolation. */
export function AutoencoderViews({ session }: { session: ModeSession }) {
  const isVae = session.state.kind === 'vae';
  const hasLatent = session.state.info?.latentDim !== undefined;
  const [ends, setEnds] = useState<[number, number]>([0, 1]);
  const [next, setNext] = useState<0 | 1>(0);
  const pick = (p: PointView) => {
    if (p.index === undefined) return;
    setEnds((e) => (next === 0 ? [p.index!, e[1]] : [e[0], p.index!]));
    setNext((n) => (n === 0 ? 1 : 0));
  };
  return (
    <div className="mode-views">
      <Reconstructions session={session} />
      {hasLatent && <LatentSpace session={session} onPick={isVae ? pick : undefined} marked={isVae ? [{ index: ends[0], label: 'A' }, { index: ends[1], label: 'B' }] : undefined} />}
      {isVae && <PriorSamples session={session} />}
      {isVae && <Interpolation session={session} a={ends[0]} b={ends[1]} onChange={(a, b) => setEnds([a, b])} />}
    </div>
  );
}
