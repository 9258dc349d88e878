/**
 * Runs before every unit test file: MNIST digits are read with Node's own JSON loader,
 * not through the test runner's module transform (which is slow on the 20 MB of digit files).
 */
import { useNodeMnistFiles } from '../data/mnist.node.ts';
import { installNodeGemmThreads } from '../backends/cpu/parallel.node.ts';

useNodeMnistFiles();
// Large GEMMs use helper threads (results are bit-identical to one thread).
installNodeGemmThreads();
