export async function runDemo(_o: unknown): Promise<void> { throw new Error('demo: not written yet'); }
