import { electPrimary } from './primary-election';

describe('electPrimary', () => {
  it('takes the only claimant', () => {
    expect(electPrimary([{ name: 'primary', timeline: 1 }], 0)).toEqual({
      primary: 'primary',
      fenced: [],
      timelineFloor: 1,
    });
  });

  it('has no primary when nobody claims the role', () => {
    expect(electPrimary([], 3)).toEqual({ primary: undefined, fenced: [], timelineFloor: 3 });
  });

  it('prefers the promoted replica (higher timeline) over an old primary that came back', () => {
    const e = electPrimary(
      [
        { name: 'primary', timeline: 1 },
        { name: 'replica-1', timeline: 2 },
      ],
      1,
    );
    expect(e).toEqual({ primary: 'replica-1', fenced: ['primary'], timelineFloor: 2 });
  });

  it('never falls back to an old primary once a newer timeline was seen, even if it is the only claimant', () => {
    expect(electPrimary([{ name: 'primary', timeline: 1 }], 2)).toEqual({
      primary: undefined,
      fenced: ['primary'],
      timelineFloor: 2,
    });
  });

  it('breaks a tie by name, the same way on every instance, whatever order the claims come in', () => {
    const a = electPrimary(
      [
        { name: 'replica-2', timeline: 2 },
        { name: 'replica-1', timeline: 2 },
      ],
      1,
    );
    const b = electPrimary(
      [
        { name: 'replica-1', timeline: 2 },
        { name: 'replica-2', timeline: 2 },
      ],
      1,
    );
    expect(a).toEqual({ primary: 'replica-1', fenced: ['replica-2'], timelineFloor: 2 });
    expect(b.primary).toBe('replica-1');
  });

  it('accepts a later promotion (a newer timeline) of a node that was fenced before', () => {
    expect(
      electPrimary(
        [
          { name: 'primary', timeline: 3 },
          { name: 'replica-1', timeline: 2 },
        ],
        2,
      ).primary,
    ).toBe('primary');
  });
});
