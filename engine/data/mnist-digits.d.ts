/** The 28x28 pixel values (in [0, 1]) of every sample of one digit class, concatenated. */
export function loadDigitPixels(digit: number): Promise<number[]>;
