/** Registers the CPU backend and all of its kernels. Import once, for its side effects. */
import { registerBackend } from '../../core/backend.ts';
import { cpuBackend } from './cpu-backend.ts';
import './elementwise.ts';
import './reduce.ts';
import './matmul.ts';
import './layout.ts';
import './softmax.ts';
import './conv.ts';
import './pool.ts';
import './rnn.ts';
import './attention.ts';
import './attention-ff.ts';
import './attention-bias.ts';
import './graph.ts';
import './norm.ts';
import './optim.ts';

registerBackend(cpuBackend, 0);
