// Cancel requests a worker has heard, kept until their deadline. A request can arrive
// before the processor has the job (it then finds no running fetch to abort); the
// processor checks here first.
export class RecentCancels {
  private readonly until = new Map<string, number>();
  private addsSinceSweep = 0;

  add(jobId: string, until: number, now = Date.now()): void {
    if (until <= now) return;
    this.until.set(jobId, until);
    // Entries live no longer than a fetch's budget (120 s at most); sweep now and then.
    this.addsSinceSweep += 1;
    if (this.addsSinceSweep >= 256) {
      this.addsSinceSweep = 0;
      for (const [id, expiry] of this.until) if (expiry <= now) this.until.delete(id);
    }
  }

  has(jobId: string, now = Date.now()): boolean {
    const expiry = this.until.get(jobId);
    return expiry !== undefined && expiry > now;
  }
}
