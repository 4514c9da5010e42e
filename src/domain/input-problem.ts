/** One problem in an input, naming its field path (`inputs.3.properties.price`). */
export interface InputProblem {
  path: string;
  message: string;
}
