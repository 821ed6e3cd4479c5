// Stylesheets are bundled as text (build.mjs: loader ".css": "text") and put in a <style>.
declare module "*.css" {
  const text: string;
  export default text;
}
