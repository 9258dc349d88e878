/** The project a first launch opens: LeNet-5 on MNIST digits, the bundled example "lenet5-mnist". */
export const STARTER_EXAMPLE = 'lenet5-mnist';
