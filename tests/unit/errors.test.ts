import { GraphQLError } from 'graphql';
import { badUserInput, maskError } from '../../src/errors';

describe('maskError', () => {
  it('passes contract errors through without a stack outside development', () => {
    const e = badUserInput([{ path: 'input.type', message: 'is required' }]);
    const masked = maskError({ ...e.toJSON(), extensions: { ...e.extensions, stacktrace: ['x'] } }, false);
    expect(masked.extensions).toEqual({ code: 'BAD_USER_INPUT', errors: [{ path: 'input.type', message: 'is required' }] });
    expect(masked.message).toContain('input.type');
  });

  it('hides internal errors outside development', () => {
    const internal = new GraphQLError('connect ECONNREFUSED 10.0.0.5:5432', { path: ['me'] });
    const masked = maskError(internal.toJSON(), false);
    expect(masked).toEqual({ message: 'Unexpected error.', path: ['me'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('shows internal errors in development', () => {
    const internal = new GraphQLError('boom');
    expect(maskError(internal.toJSON(), true).message).toBe('boom');
  });
});
