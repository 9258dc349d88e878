import { useMemo, useState } from 'react';
import { LineChart } from '../charts/LineChart.tsx';
import { AttackPanel } from './AttackPanel.tsx';
import { AutoencoderViews, clampInt } from './AutoencoderViews.tsx';
import { GanViews } from './GanViews.tsx';
import { PretrainViews } from './PretrainViews.tsx';
import { ProbeViews } from './ProbeViews.tsx';
import { TextModeViews } from './TextModeViews.tsx';
import { Word2VecViews } from './Word2VecViews.tsx';
import { lossSeries, MODE_TITLES } from './mode-state.ts';
import type { ModeSession } from './useModeSession.ts';
import './modes.css';

const ABOUT: Record<string, string> = {
  autoencoder: 'The network rebuilds its input through a narrow code. Compare inputs with reconstructions and see where each sample lands in the latent space.',
  vae: 'The encoder gives a mean and a variance; a KL term keeps codes near a standard normal, so decoding random codes draws new samples and paths between codes morph one sample into another.',
  gan: 'A generator and a discriminator train in turn with their own optimisers. Watch both losses: neither should win outright.',
  adversarial: 'Train the classifier, then nudge a test sample by at most epsilon per value in the direction that hurts it most and see its prediction change.',
  seq2seq: 'An encoder reads the source; a decoder writes the answer one token at a time. Training feeds the decoder the true previous token; generation feeds it its own, by greedy search, beam search or sampling.',
  'language-model': 'The network predicts each next character of the text. Generation continues a prompt one character at a time; lower temperatures give safer text, higher ones more surprising text.',
  word2vec: 'Each word gets a vector, learned by predicting the words around it. Words used in the same contexts end up near each other.',
  rotation: 'Every unlabelled image is shown turned by 0, 90, 180 and 270 degrees and the network learns which turn it sees; to do so it has to learn what upright images look like. A linear probe then measures how well its features separate the classes.',
  contrastive: 'Two random views of each image go through the same network; the NT-Xent loss pulls the two views together and pushes other images away. A linear probe then measures how well the features separate the classes.',
  'pretrain-transfer': 'A denoising autoencoder learns from the images without their labels. Its encoder has the layers of a classifier, so the classifier can start from the pretrained weights; with only a few labels, compare it with the same classifier trained from scratch.',
};

/**
 * The Mode panel of a project with a course mode (autoencoder, VAE, GAN, adversarial
 * attack, text, self-supervised and autoencoder pretraining): train, step or stop the
 * mode's run, its live losses, and what the mode shows.
 */
export function ModePanel({ session }: { session: ModeSession }) {
  const { mode, state } = session;
  const [steps, setSteps] = useState(50);
  const series = useMemo(() => lossSeries(state), [state]);
  if (!mode) return <p className="panel-empty">This project has no course mode.</p>;
  const running = state.phase === 'running' || state.phase === 'starting';
  const kind = state.kind ?? mode.kind;
  const epoch = state.step / state.stepsPerEpoch;
  return (
    <div className="mode-panel" data-testid="mode-panel" data-mode={mode.kind}>
      <div className="mode-side">
        <h3 className="mode-title">{MODE_TITLES[mode.kind]}</h3>
        <p className="mode-about">{ABOUT[mode.kind]}</p>
        <div className="run-controls">
          <button type="button" className="primary" disabled={running} onClick={() => session.start()} data-testid="mode-train">
            Train
          </button>
          <button type="button" disabled={!running} onClick={session.stop} data-testid="mode-stop">
            Stop
          </button>
        </div>
        <div className="run-controls mode-step-controls">
          <button type="button" disabled={running} onClick={() => session.step(steps)} data-testid="mode-step">
            {state.phase === 'idle' ? 'Train' : 'Train only'} {steps} {state.phase === 'idle' ? 'more steps' : 'steps'}
          </button>
          <input type="number" min={1} max={100000} value={steps} aria-label="steps" onChange={(e) => setSteps(clampInt(e.target.value, 1, 100000, steps))} data-testid="mode-steps" />
        </div>
        <p className="mode-progress" data-testid="mode-progress" data-phase={state.phase} data-step={state.step}>
          {state.phase === 'none' && 'Not trained yet.'}
          {state.phase === 'starting' && 'Preparing the data and the networks…'}
          {(state.phase === 'running' || state.phase === 'idle') && (
            <>
              {state.phase === 'running' ? 'Training' : state.status === 'stopped' ? 'Stopped' : state.status === 'diverged' ? 'Diverged' : 'Done'}: step {state.step}
              {state.phase === 'running' && state.totalSteps ? ` of ${state.totalSteps}` : ''}, epoch {epoch.toFixed(2)}
            </>
          )}
          {state.phase === 'failed' && 'Failed.'}
        </p>
        {state.message && (
          <div className={`run-banner ${state.phase === 'failed' ? 'run-banner-error' : 'run-banner-warning'}`} role="alert" data-testid="mode-banner">
            {state.message}
          </div>
        )}
      </div>
      <div className="mode-main">
        <LineChart title="Losses" series={series} xLabel="epoch" xMin={0} height={160} testId="chart-mode-loss" empty="Train to see the losses" />
        {state.runId && state.phase !== 'starting' && state.phase !== 'failed' && state.kind && (
          <>
            {(kind === 'autoencoder' || kind === 'vae') && <AutoencoderViews session={session} />}
            {kind === 'gan' && <GanViews session={session} />}
            {kind === 'adversarial' && <AttackPanel session={session} />}
            {(kind === 'seq2seq' || kind === 'language-model') && <TextModeViews session={session} />}
            {kind === 'word2vec' && <Word2VecViews session={session} />}
            {(kind === 'rotation' || kind === 'contrastive') && <ProbeViews session={session} />}
            {kind === 'pretrain-transfer' && <PretrainViews session={session} />}
          </>
        )}
      </div>
    </div>
  );
}
